#!/bin/sh
# shellcheck shell=sh
# Reviewed plan versus applied plan: compares the digest of the plan the deploy is about to apply with
# the digest recorded for the stack in reviewed-plans.txt at the repository root, a committed file
# changed in the merge request whose plan:<stack> job printed that digest ("plan digest for <stack>").
# The deploy job reads only its checkout: it does not fetch the merge request pipeline's artifacts
# (that would need an API token and a trustworthy way to find the merge request), so what is compared
# is the digest someone committed as reviewed, not the artifact itself (docs/pipeline.md).
#   <stack> <sha256>   the reviewed digest of that stack (the last line for a stack counts)
#   mode warn|fail     warn (default): print a divergence and go on; fail: refuse it, and refuse a
#                      stack with no recorded digest
# Prints one verdict line; exits 1 when the deploy must stop.
# Usage: sh src/pipeline/reviewed-plan-check.sh <stack> <reviewed-plans file> <digest of the plan>
set -euf
stack=$1
file=$2
digest=$3
name=${file##*/}
mode=warn
reviewed=""
if [ -f "$file" ]; then
  line=0
  while IFS= read -r text || [ -n "$text" ]; do
    line=$((line + 1))
    # shellcheck disable=SC2086
    set -- $text
    case "${1:-#}" in
      \#*) continue ;;
      mode)
        case "$*" in
          "mode warn" | "mode fail") mode=$2 ;;
          *) printf 'ERROR: %s:%s: write "mode warn" or "mode fail"\n' "$name" "$line" >&2 && exit 1 ;;
        esac
        ;;
      *)
        if [ $# -ne 2 ] || ! printf '%s\n' "$2" | grep -Eqx '[0-9a-f]{64}'; then
          printf 'ERROR: %s:%s: write "<stack> <sha256 of the plan>" (64 lower-case hex digits)\n' "$name" "$line" >&2
          exit 1
        fi
        [ "$1" = "$stack" ] && reviewed=$2
        ;;
    esac
  done <"$file"
fi
if [ -z "$reviewed" ]; then
  if [ "$mode" = fail ]; then
    printf 'ERROR: reviewed plan: %s records no digest for %s, and its mode is fail. Record the digest plan:%s printed in the merge request ("%s <digest>") and merge it.\n' "$name" "$stack" "$stack" "$stack" >&2
    exit 1
  fi
  printf 'reviewed plan: %s records no digest for %s: not compared\n' "$name" "$stack"
elif [ "$reviewed" = "$digest" ]; then
  printf 'reviewed plan: the plan equals the one recorded as reviewed in %s (%s)\n' "$name" "$digest"
elif [ "$mode" = fail ]; then
  printf 'ERROR: reviewed plan: the plan (%s) DIVERGED from the one recorded as reviewed in %s (%s): state, AWS or main changed since the merge request was reviewed.\n' "$digest" "$name" "$reviewed" >&2
  exit 1
else
  printf 'WARNING: reviewed plan: the plan (%s) DIVERGED from the one recorded as reviewed in %s (%s); mode warn, so the deploy goes on.\n' "$digest" "$name" "$reviewed"
fi
