#!/bin/sh
# Prints the release notes for a component release: the CHANGELOG.md section of the tag.
#   sh scripts/release-notes.sh TAG [CHANGELOG.md] [templates/aws-credentials.yml] > release-notes.md
# Fails (exit 1, one line on stderr saying what to fix) when TAG is not a semantic version (the CI/CD
# Catalog publishes only those), when CHANGELOG.md has no non-empty "## [TAG]" section, or when the
# component's own version (_awscred_version in the template, printed by every job) is not TAG.
# The release job runs it; so do the tests. POSIX sh + awk, so it runs in the release-cli/glab image.
set -eu

fail() {
  printf 'release-notes: ERROR: %s\n' "$*" >&2
  exit 1
}

[ $# -ge 1 ] && [ $# -le 3 ] || fail "usage: sh scripts/release-notes.sh TAG [CHANGELOG.md] [templates/aws-credentials.yml]"
tag=$1
changelog=${2:-CHANGELOG.md}
template=${3:-templates/aws-credentials.yml}

# Semantic Versioning 2.0.0: MAJOR.MINOR.PATCH, no leading zeros, optional -pre.release and +build.
if ! printf '%s\n' "$tag" | grep -Eq '^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(-((0|[1-9][0-9]*|[0-9]*[A-Za-z-][0-9A-Za-z-]*)(\.(0|[1-9][0-9]*|[0-9]*[A-Za-z-][0-9A-Za-z-]*))*))?(\+[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$'; then
  case "$tag" in
    v[0-9]*) fail "tag '$tag' is not a semantic version: drop the v (the CI/CD Catalog takes tags like ${tag#v}); delete the tag and push ${tag#v}" ;;
  esac
  fail "tag '$tag' is not a semantic version (MAJOR.MINOR.PATCH, e.g. 1.2.0 or 2.0.0-rc.1): the CI/CD Catalog publishes only semantic versions; delete the tag and push one"
fi
[ -r "$changelog" ] || fail "$changelog not found: add it with a '## [$tag] - YYYY-MM-DD' section"

# The section under "## [TAG]" or "## TAG" (optionally followed by " - date"), up to the next "## ".
notes=$(TAG="$tag" awk '
  BEGIN { tag = ENVIRON["TAG"] }
  /^## / {
    if (inside) exit
    h = substr($0, 4); sub(/[ \t]+-[ \t].*$/, "", h); sub(/[ \t]+$/, "", h)
    if (h == tag || h == "[" tag "]") { inside = 1; next }
  }
  inside { lines[++n] = $0 }
  END {
    first = 1; while (first <= n && lines[first] ~ /^[ \t]*$/) first++
    last = n; while (last >= first && lines[last] ~ /^[ \t]*$/) last--
    for (i = first; i <= last; i++) print lines[i]
  }' "$changelog")
[ -n "$notes" ] || fail "$changelog has no section for $tag (or it is empty): add '## [$tag] - YYYY-MM-DD' with what changed, commit, and tag that commit"

version=$(sed -n 's/^[[:space:]]*_awscred_version=\([^[:space:]]*\)[[:space:]]*$/\1/p' "$template" | head -n 1)
[ "$version" = "$tag" ] ||
  fail "$template says _awscred_version=${version:-(none)}, the tag is $tag: set _awscred_version=$tag (jobs print it), commit, and tag that commit"

printf '%s\n' "$notes"
