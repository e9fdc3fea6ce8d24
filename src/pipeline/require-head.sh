#!/bin/sh
# Refuses to deploy unless this pipeline's commit is the current head of the default branch (POSIX sh,
# git). Terraform's stale-plan check compares only the state's serial and lineage, and GitLab's
# "prevent outdated deployment jobs" compares deployments, not commits: without this, playing the
# deploy of an older pipeline could apply an older plan and undo what a newer merge changed.
#
# The head is read with `git ls-remote` from $CI_REPOSITORY_URL (the project's clone URL with the job
# token, which may always read its own project's repository). GitLab's branches API is not used: a job
# token is not accepted there unless the project grants fine-grained job token permissions.
# Usage (the deploy job's before_script): sh src/pipeline/require-head.sh
set -eu

fail() {
  printf 'require-head: ERROR: %s\n' "$*" >&2
  exit 1
}

branch=${CI_DEFAULT_BRANCH:-}
sha=${CI_COMMIT_SHA:-}
url=${CI_REPOSITORY_URL:-}
[ -n "$branch" ] || fail "CI_DEFAULT_BRANCH is not set: run this in a GitLab CI/CD job"
[ -n "$sha" ] || fail "CI_COMMIT_SHA is not set: run this in a GitLab CI/CD job"
[ -n "$url" ] || fail "CI_REPOSITORY_URL is not set: run this in a GitLab CI/CD job"
case "$url" in -*) fail "CI_REPOSITORY_URL does not look like a repository URL" ;; esac
command -v git >/dev/null 2>&1 || fail "git is not installed in the job's image; the deploy job needs it to read the head of $branch"

[ "${CI_COMMIT_BRANCH:-}" = "$branch" ] ||
  fail "this pipeline is not for the default branch $branch (CI_COMMIT_BRANCH=${CI_COMMIT_BRANCH:-<none>}): only the default branch deploys"

# Where the runner checked the commit out, the checkout must be that commit: CI_COMMIT_SHA is a
# variable, the checkout is what the runner fetched for this pipeline.
dir=${CI_PROJECT_DIR:-.}
if checkout=$(git -c safe.directory="$dir" -C "$dir" rev-parse --verify -q HEAD 2>/dev/null); then
  [ "$checkout" = "$sha" ] ||
    fail "the checkout is at $checkout but CI_COMMIT_SHA says $sha: refusing to deploy"
fi

errors=$(mktemp)
trap 'rm -f "$errors"' EXIT
if ! refs=$(GIT_TERMINAL_PROMPT=0 git ls-remote --heads "$url" "refs/heads/$branch" 2>"$errors"); then
  # Never print the token: git may echo the URL with its user:password part.
  reason=$(sed 's#://[^/@[:space:]]*@#://[credentials]@#g' "$errors" | tail -n 3)
  fail "could not read the head of $branch from the project's repository (git ls-remote): $reason"
fi
head=$(printf '%s\n' "$refs" | awk -v ref="refs/heads/$branch" '$2 == ref { print $1 }')
[ -n "$head" ] || fail "the project's repository has no branch $branch"

if [ "$head" != "$sha" ]; then
  fail "this pipeline's commit $sha is no longer the head of $branch (now $head). Its plan predates a newer merge; applying it could undo that change. Deploy from the pipeline of $head instead."
fi
printf 'require-head: %s is the head of %s\n' "$sha" "$branch"
