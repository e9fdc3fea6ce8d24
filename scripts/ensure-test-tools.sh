#!/usr/bin/env bash
# The one installer of the tools the tests run, used by `npm run test:all` (so by .ci/run) and by the
# pipeline's unit-tests job. Every tool a test starts is listed below with its Debian package and why.
# As root with apt-get, installs what is missing; otherwise, or when an install does not put the tool
# on PATH, names each missing tool, its package and why, and exits 1 (so the test run stops here, not
# in the middle with "command not found").
#   bash scripts/ensure-test-tools.sh           install what is missing (as root), else explain
#   bash scripts/ensure-test-tools.sh --check   only check and explain
# terraform is optional (not a Debian package): the tests that compare with it also compare with HCL's
# own formatter, and are skipped without it, with the reason in their names and the count in jest's
# closing line.
set -euo pipefail

# command (or absolute path) | Debian package | why the tests need it
TOOLS=(
  "git|git|the tests build throw-away repositories, and gitlab-ci-local reads the project from git"
  "/usr/lib/git-core/git-http-backend|git|the component's catalog tests serve this repository over smart HTTP on 127.0.0.1"
  "rsync|rsync|gitlab-ci-local copies the project into its build directory; the pipeline tests copy the working tree"
  "/usr/bin/aws|awscli|the component's end-to-end tests run Debian's AWS CLI v2 (/usr/bin/aws) against the STS stand-in"
  "jq|jq|GitLab's documented jq program is the oracle the plan summary (sed and awk) is tested against"
  "/usr/bin/busybox|busybox|the component script is tested under BusyBox sh (/usr/bin/busybox), the shell of Alpine-based job images"
  "dash|dash|the component script is tested under dash (POSIX sh)"
)

check_only=false
[ "${1:-}" = "--check" ] && check_only=true

found() {
  case "$1" in
    /*) [ -x "$1" ] ;;
    *) command -v "$1" >/dev/null 2>&1 ;;
  esac
}

# Sets `missing` to the TOOLS entries whose command is not found.
find_missing() {
  missing=()
  local entry
  for entry in "${TOOLS[@]}"; do
    found "${entry%%|*}" || missing+=("$entry")
  done
}

packages_of() {
  local entry rest
  for entry in "$@"; do
    rest=${entry#*|}
    printf '%s\n' "${rest%%|*}"
  done | sort -u | tr '\n' ' '
}

# Whether the Debian package is installed (then the tool is only missing from PATH).
package_installed() {
  [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" = "install ok installed" ]
}

explain_and_fail() {
  local entry command rest package to_install=()
  echo "ensure-test-tools: the tests need tools that are not installed (or not on PATH=$PATH):" >&2
  for entry in "${missing[@]}"; do
    command=${entry%%|*}
    rest=${entry#*|}
    package=${rest%%|*}
    echo "  - $command (Debian package $package): ${rest#*|}" >&2
    if package_installed "$package"; then
      echo "    $package is installed, but not on PATH: add the directory of $(dpkg -L "$package" | grep -m1 "/bin/${command##*/}$") to PATH." >&2
    else
      to_install+=("$entry")
    fi
  done
  if [ ${#to_install[@]} -gt 0 ]; then
    echo "  Install: apt-get install $(packages_of "${to_install[@]}")(as root, this script does it)." >&2
  fi
  exit 1
}

find_missing
if [ ${#missing[@]} -gt 0 ]; then
  not_installed=()
  for entry in "${missing[@]}"; do
    rest=${entry#*|}
    package_installed "${rest%%|*}" || not_installed+=("$entry")
  done
  if [ ${#not_installed[@]} -gt 0 ] && [ "$check_only" = false ] && [ "$(id -u)" = 0 ] &&
    command -v apt-get >/dev/null 2>&1; then
    packages=$(packages_of "${not_installed[@]}")
    echo "ensure-test-tools: installing ${packages}with apt-get" >&2
    export DEBIAN_FRONTEND=noninteractive
    # shellcheck disable=SC2086 # one word per package
    if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends $packages >/dev/null; }; then
      echo "ensure-test-tools: apt-get could not install ${packages}(output above)." >&2
    fi
    find_missing
  fi
  [ ${#missing[@]} -eq 0 ] || explain_and_fail
fi

if ! command -v terraform >/dev/null 2>&1; then
  echo "ensure-test-tools: terraform is not on PATH (optional, not a Debian package): the checks against the" \
    "terraform binary will be skipped and named [SKIPPED: …]; they also run against HCL's own formatter." >&2
fi
echo "ensure-test-tools: all test tools present ($(for e in "${TOOLS[@]}"; do printf '%s ' "${e%%|*}"; done | sed 's/ $//'))" >&2
