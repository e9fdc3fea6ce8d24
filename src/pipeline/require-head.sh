#!/bin/sh
# shellcheck shell=sh
# Refuses to deploy unless the checked-out commit is the current head of the project's default branch
# (POSIX sh, git). Terraform's stale-plan check compares only the state's serial and lineage, and
# GitLab's "prevent outdated deployment jobs" compares deployments, not commits: without this, playing
# the deploy of an older pipeline could apply an older plan and undo what a newer merge changed.
#
# Only facts that no variable can override: the commit is the checkout's HEAD (what the runner
# fetched), the remote is the checkout's origin (written by the runner) and must lie under
# CI_SERVER_URL (which sealed-run.sh has already matched against the committed config), and the
# default branch and its head are what the remote itself says (`git ls-remote --symref <url> HEAD`).
# CI_DEFAULT_BRANCH, CI_COMMIT_BRANCH and CI_REPOSITORY_URL are not read: pipeline variables outrank them.
# git runs with no inherited GIT_* variable, no system or global config, an empty HOME, no proxy, no
# credential helper, no redirects, https only (http only to the loopback, for tests); the job token is
# given by an askpass program to the one URL under CI_SERVER_URL, never on a command line.
#
# Runs inside the sealed launcher (src/pipeline/sealed-step.sh), which passes the job token as
# REQUIRE_HEAD_TOKEN. Usage: sh src/pipeline/require-head.sh [--ancestor]
# --ancestor (release jobs): the commit need not be the head, but must be in the default branch's
# history (a tag on a reviewed, merged commit), checked against the default branch fetched from the remote.
set -eu
mode=head
case "${1:-}" in --ancestor) mode=ancestor ;; '') ;; *) printf 'usage: require-head.sh [--ancestor]\n' >&2; exit 2 ;; esac

fail() {
  printf 'require-head: ERROR: %s\n' "$*" >&2
  exit 1
}

dir=${CI_PROJECT_DIR:?CI_PROJECT_DIR is not set}
server=${CI_SERVER_URL:?CI_SERVER_URL is not set}
server=${server%/}
sha=${CI_COMMIT_SHA:?CI_COMMIT_SHA is not set}
token=${REQUIRE_HEAD_TOKEN:?REQUIRE_HEAD_TOKEN is not set}
command -v git >/dev/null 2>&1 || fail "git is not installed in the job's image; the deploy job needs it to read the head of the default branch"

# A private, empty git world: nothing of the job's environment, HOME or /etc reaches git.
work=$(umask 077 && mktemp -d "${TMPDIR:-/tmp}/require-head.XXXXXX") || fail "cannot create a private directory"
trap 'rm -rf "$work"' EXIT
mkdir "$work/home"
printf '[safe]\n\tdirectory = %s\n' "$dir" >"$work/gitconfig"
printf '#!/bin/sh\nprintf "%%s\\n" "$REQUIRE_HEAD_TOKEN"\n' >"$work/askpass"
chmod 700 "$work/askpass"
sealed_git() {
  env -i PATH="$PATH" HOME="$work/home" LC_ALL=C GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL="$work/gitconfig" \
    GIT_TERMINAL_PROMPT=0 GIT_ASKPASS="$work/askpass" REQUIRE_HEAD_TOKEN="$token" git "$@"
}

checkout=$(sealed_git -C "$dir" rev-parse --verify -q HEAD) || fail "$dir is not a git checkout"
[ "$checkout" = "$sha" ] || fail "the checkout is at $checkout but CI_COMMIT_SHA says $sha: refusing to deploy"

# The checkout's origin, from its own config file only (no includes), without credentials.
origin=$(sealed_git config --file "$dir/.git/config" --no-includes --get remote.origin.url) ||
  fail "the checkout has no origin remote"
scheme=${origin%%://*}
rest=${origin#*://}
[ "$scheme" != "$origin" ] || fail "the checkout's origin is not a URL"
case "$rest" in *@*) rest=${rest#*@} ;; esac
case "$rest" in *[!A-Za-z0-9._~/:%+-]* | */../* | */..) fail "the checkout's origin holds characters a GitLab clone URL never has" ;; esac
url="$scheme://$rest"
case "$url" in
  "$server"/?*) ;;
  *) fail "the checkout's origin $url is not under CI_SERVER_URL $server: the job token goes to CI_SERVER_URL only" ;;
esac
case "$scheme" in
  https) protocol=https ;;
  http)
    case "$rest" in
      127.0.0.1[:/]* | localhost[:/]*) protocol=http ;;
      *) fail "the checkout's origin $url is plain http: the job token would cross the network unencrypted" ;;
    esac ;;
  *) fail "the checkout's origin $url is not https" ;;
esac

errors="$work/errors"
if ! refs=$(cd "$work" && sealed_git -c credential.helper= -c http.followRedirects=false -c protocol.allow=never \
  -c "protocol.$protocol.allow=always" ls-remote --symref "$scheme://gitlab-ci-token@$rest" HEAD 2>"$errors"); then
  reason=$(sed 's#://[^/@[:space:]]*@#://[credentials]@#g' "$errors" | LC_ALL=C tr -d '\000-\010\013-\037\177' | tail -n 3)
  fail "could not read the default branch from $url (git ls-remote): $reason"
fi
branch=$(printf '%s\n' "$refs" | awk '$1 == "ref:" && $3 == "HEAD" { sub("^refs/heads/", "", $2); print $2; exit }')
head=$(printf '%s\n' "$refs" | awk '$1 ~ /^[0-9a-f]+$/ && $2 == "HEAD" { print $1; exit }')
[ -n "$branch" ] && [ -n "$head" ] || fail "$url did not say its default branch and its head"
case "$branch" in *[!A-Za-z0-9._/-]*) fail "the default branch's name holds unexpected characters" ;; esac

if [ "$mode" = ancestor ]; then
  # The default branch's history, fetched from the same URL in the same sealed way (a shallow
  # checkout is deepened until the commit is found or the history ends).
  fetch() {
    sealed_git -C "$dir" -c credential.helper= -c http.followRedirects=false -c protocol.allow=never \
      -c "protocol.$protocol.allow=always" fetch -q --no-tags "$@" "$scheme://gitlab-ci-token@$rest" \
      "+refs/heads/$branch:refs/sealed-run/default" 2>"$errors"
  }
  fetch || fail "could not fetch $branch from $url: $(sed 's#://[^/@[:space:]]*@#://[credentials]@#g' "$errors" | tail -n 3)"
  if ! sealed_git -C "$dir" merge-base --is-ancestor "$sha" refs/sealed-run/default 2>/dev/null; then
    if [ -f "$dir/.git/shallow" ]; then fetch --unshallow || true; fi
    sealed_git -C "$dir" merge-base --is-ancestor "$sha" refs/sealed-run/default 2>/dev/null ||
      fail "the tagged commit $sha is not on the default branch $branch: only reviewed, merged commits are released"
  fi
  printf 'require-head: %s is on the default branch %s (read from %s)\n' "$sha" "$branch" "$url"
  exit 0
fi
if [ "$head" != "$sha" ]; then
  fail "this pipeline's commit $sha is not the head of the default branch $branch (now $head). An older pipeline's plan predates a newer merge, and another branch's was never merged: applying it could undo or bypass that. Deploy from the pipeline of $head instead."
fi
printf 'require-head: %s is the head of %s (read from %s)\n' "$sha" "$branch" "$url"
