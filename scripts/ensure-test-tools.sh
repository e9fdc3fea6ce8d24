#!/usr/bin/env bash
# Makes sure the end-to-end tests' real tools are here: the AWS CLI (Debian's awscli, /usr/bin/aws),
# rsync (gitlab-ci-local needs it) and BusyBox (the component's script is tested under its sh). Installs
# them with apt-get when running as root; otherwise says what to install.
set -euo pipefail

missing=()
[ -x /usr/bin/aws ] || missing+=(awscli)
command -v rsync >/dev/null 2>&1 || missing+=(rsync)
[ -x /usr/bin/busybox ] || missing+=(busybox)
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "ensure-test-tools: installing ${missing[*]} with apt-get" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  exit 0
fi
echo "ensure-test-tools: the end-to-end tests need: ${missing[*]}." >&2
echo "  Debian/Ubuntu: sudo apt-get install ${missing[*]}   (the tests use /usr/bin/aws, Debian's AWS CLI v2)" >&2
exit 1
