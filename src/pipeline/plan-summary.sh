#!/bin/sh
# Summarises a Terraform plan for GitLab's merge-request widget (artifacts:reports:terraform):
#   `terraform show -json <planfile>` → {"create": n, "update": n, "delete": n}
# A replace (actions ["delete","create"] or ["create","delete"]) counts once as a create and once as a
# delete; no-op and read changes count nowhere. The jq program is the one GitLab documents
# (doc/user/infrastructure/iac/mr_integration.md), with a check that the input is a plan.
# Usage: terraform show -json plan.tfplan | sh src/pipeline/plan-summary.sh > plan.json
#        sh src/pipeline/plan-summary.sh plan-show.json > plan.json
# Needs jq (apk add jq / apt-get install jq).
set -eu
exec jq -c '
  if type != "object" or .format_version == null then
    error("not the output of terraform show -json <planfile>")
  else
    ([.resource_changes[]?.change.actions?] | flatten)
    | {
        "create": (map(select(. == "create")) | length),
        "update": (map(select(. == "update")) | length),
        "delete": (map(select(. == "delete")) | length)
      }
  end
' "$@"
