#!/bin/sh
# shellcheck shell=sh
# The plan and deploy steps, started only by src/pipeline/sealed-run.sh from an empty environment plus
# the checked names it passes (POSIX sh). Never run it directly.
#   plan    credentials (the committed component script) → terraform init → plan → plan.txt, the
#           merge-request widget's plan.json, and plan.digest (sh src/pipeline/plan-check.sh)
#   deploy  require-head → credentials → init → a fresh plan, made here in the sealed environment
#           (the plan job's plan file is never applied: it stores the backend settings of the job that
#           made it) → refuse an incomplete or errored plan → refuse it unless its digest equals the
#           plan job's (what this pipeline showed) → compare it with the merge request's reviewed digest
#           (reviewed-plans.txt: warn or fail) → refuse deletions of IAM roles, OIDC providers and
#           policy attachments not acknowledged in the committed deploy-acknowledgements.txt → apply.
#   release require-head.sh --ancestor: the tagged commit is on the default branch.
set -eu

fail() {
  printf '%s: ERROR: %s\n' "$SEALED_STEP" "$*" >&2
  exit 1
}
[ -n "${SEALED_PRIVATE:-}" ] && [ -f "$SEALED_PRIVATE/secrets" ] || fail "run this through src/pipeline/sealed-run.sh"
{
  IFS= read -r AWS_ID_TOKEN
  IFS= read -r job_token
} <"$SEALED_PRIVATE/secrets"
rm -f "$SEALED_PRIVATE/secrets"
root=$CI_PROJECT_DIR
pipeline="$root/src/pipeline"

if [ "$SEALED_STEP" = release ]; then
  # A component release: the tagged commit must be on the default branch (reviewed, merged).
  REQUIRE_HEAD_TOKEN="$job_token" sh "$pipeline/require-head.sh" --ancestor
  exit 0
fi
if [ "$SEALED_STEP" = deploy ]; then
  REQUIRE_HEAD_TOKEN="$job_token" sh "$pipeline/require-head.sh"
fi

# The credential step: the committed component's script (templates/aws-credentials.yml,
# .aws-credentials-script), the same text the component's users run, sourced in this sealed shell.
component="$SEALED_PRIVATE/aws-credentials.sh"
awk '
  /^\.aws-credentials-script:[[:space:]]*$/ { in_job = 1; next }
  in_job && /^    - \|[[:space:]]*$/ { in_block = 1; next }
  in_block && /^[[:space:]]*$/ { print ""; next }
  in_block && /^      / { print substr($0, 7); next }
  in_block { exit }
  in_job && /^[^[:space:]#]/ { exit }
' "$root/templates/aws-credentials.yml" >"$component"
[ -s "$component" ] || fail "templates/aws-credentials.yml has no .aws-credentials-script block"
if grep -q '\$\[\[' "$component"; then
  fail "the component's script uses an input (\$[[ ... ]]): the sealed launcher cannot run it unexpanded"
fi
export AWS_ID_TOKEN
# The component is written for a job's shell (set -e, unset variables allowed).
set +u
# shellcheck disable=SC1090
. "$component"
set -u
unset AWS_ID_TOKEN

export TF_IN_AUTOMATION=true TF_INPUT=0
# GitLab-managed state: the job token is the state's password, in the environment only (never in a
# file or -backend-config, which a plan file keeps). S3 state: the job's AWS profile reads and writes it.
if [ "${STATE_TYPE:-gitlab}" = gitlab ]; then
  export TF_HTTP_USERNAME=gitlab-ci-token TF_HTTP_PASSWORD="$job_token"
fi
cd "$root/$TF_ROOT"
if [ ! -f .terraform.lock.hcl ]; then
  printf '%s: ERROR: %s/.terraform.lock.hcl is not committed: terraform init -lockfile=readonly needs it to verify the providers it downloads.\n' "$SEALED_STEP" "$TF_ROOT" >&2
  printf 'Create it with: terraform -chdir=%s providers lock -platform=linux_amd64 -platform=darwin_arm64 (add your platforms), then commit it (docs/pipeline.md).\n' "$TF_ROOT" >&2
  exit 1
fi
terraform version
# -lockfile=readonly: only the providers and checksums of the committed lock file.
terraform init -input=false -lockfile=readonly

if [ "$SEALED_STEP" = plan ]; then
  # -lock=false: a plan writes no state, and locking GitLab-managed state needs the Maintainer role,
  # which the author of a merge request may not have.
  terraform plan -input=false -lock=false -out=plan.tfplan
  terraform show -no-color plan.tfplan >plan.txt
  terraform show -json plan.tfplan >"$SEALED_PRIVATE/plan-show.json"
  sh "$pipeline/plan-summary.sh" "$SEALED_PRIVATE/plan-show.json" >plan.json
  sh "$pipeline/plan-check.sh" <"$SEALED_PRIVATE/plan-show.json" >plan.facts
  grep -qx 'complete true' plan.facts || fail "the plan is not complete (made with -target?): nothing may deploy it"
  grep -qx 'errored false' plan.facts || fail "the plan errored"
  sed -n 's/^digest //p' plan.facts >plan.digest
  printf 'plan for %s (create, update, delete; a replace counts as one create and one delete): %s\n' "$STACK" "$(cat plan.json)"
  printf 'plan digest for %s (resource_changes, sha256): %s\n' "$STACK" "$(cat plan.digest)"
  rm -f plan.facts
  exit 0
fi

# --- deploy ----------------------------------------------------------------------------------------
[ -f plan.digest ] || fail "$TF_ROOT/plan.digest, the artifact of this pipeline's plan job, is missing: run plan:$STACK first"
shown=$(cat plan.digest)
terraform plan -input=false -out="$SEALED_PRIVATE/deploy.tfplan"
terraform show -json "$SEALED_PRIVATE/deploy.tfplan" | sh "$pipeline/plan-check.sh" >"$SEALED_PRIVATE/deploy.facts"
grep -qx 'complete true' "$SEALED_PRIVATE/deploy.facts" || fail "the plan is not complete: refusing to apply a partial plan"
grep -qx 'errored false' "$SEALED_PRIVATE/deploy.facts" || fail "the plan errored"
digest=$(sed -n 's/^digest //p' "$SEALED_PRIVATE/deploy.facts")
if [ "$digest" != "$shown" ]; then
  fail "the plan made now ($digest) differs from the one this pipeline's plan:$STACK showed ($shown): state or AWS changed since, or the plan job was steered. Nothing was applied; run a new pipeline and review its plan."
fi
printf 'deploy: the plan equals the one plan:%s showed (digest %s)\n' "$STACK" "$digest"
# Against what the merge request showed, as recorded in the commit (reviewed-plans.txt).
sh "$pipeline/reviewed-plan-check.sh" "$STACK" "$root/reviewed-plans.txt" "$digest" || fail "nothing was applied"

# Deletions of roles, providers and attachments: printed, and acknowledged in the commit.
sh "$pipeline/deletions-check.sh" "$STACK" "$root/deploy-acknowledgements.txt" <"$SEALED_PRIVATE/deploy.facts" ||
  fail "nothing was applied"
terraform apply -input=false "$SEALED_PRIVATE/deploy.tfplan"
