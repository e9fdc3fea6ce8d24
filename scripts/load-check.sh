#!/usr/bin/env bash
# Issue 23's load check: `npm test` three times in a row while a full synth of 5,000 roles (100 accounts,
# bench/generate.ts) loops beside it, so the fast tiers run on a loaded machine. Any failure fails the
# check. Prints one line per run and the number of synths that ran beside them.
#
#   bash scripts/load-check.sh [runs]        (default 3; after `npm ci` and `npm run build`)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
work=$(mktemp -d)
trap 'touch "$work/stop"; wait 2>/dev/null; rm -rf "$work"' EXIT
node -e '
  const { generateConfig, generateLock } = require("./dist/bench/generate.js");
  const fs = require("fs");
  fs.writeFileSync(process.argv[1] + "/gitlab-oidc.yaml", generateConfig(100, 50));
  fs.writeFileSync(process.argv[1] + "/gitlab-oidc.lock.yaml", generateLock(100, 50));
' "$work"
(
  n=0
  while [ ! -e "$work/stop" ]; do
    GITLAB_OIDC_FULL_SYNTH=1 GITLAB_OIDC_CONFIG="$work/gitlab-oidc.yaml" CDKTF_OUTDIR="$work/out" \
      node dist/main.js >/dev/null 2>&1 || { echo "load-check: the synth beside the tests failed" >&2; exit 1; }
    n=$((n + 1))
    echo "$n" >"$work/synths"
  done
) &
failed=0
for i in $(seq 1 "$runs"); do
  started=$(date +%s)
  if npm test >"$work/run-$i.log" 2>&1; then status=passed; else status=FAILED; failed=1; fi
  echo "load-check: npm test run $i $status in $(($(date +%s) - started)) s (load $(cut -d' ' -f1-3 /proc/loadavg)); $(grep -E '^jest:' "$work/run-$i.log" | tail -n 1)"
  if [ "$status" = FAILED ]; then grep -E '✕|●' "$work/run-$i.log" | head -n 20; fi
done
touch "$work/stop"
wait
echo "load-check: $(cat "$work/synths" 2>/dev/null || echo 0) full synths of 5,000 roles ran beside the tests"
exit "$failed"
