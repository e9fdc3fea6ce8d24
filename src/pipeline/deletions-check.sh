#!/bin/sh
# shellcheck shell=sh
# Deletions of what grants access (IAM roles, OIDC providers, policies and their attachments) need an
# acknowledgement committed with the change that makes them: a line "<stack> <resource address>" in
# deploy-acknowledgements.txt at the repository root, reviewed in the merge request. A variable cannot
# acknowledge anything (any pipeline variable outranks the YAML's). Other deletions pass.
# Reads plan-check.sh's facts on stdin; prints each access deletion; exits 1 if one is not acknowledged.
# Usage: sh src/pipeline/deletions-check.sh <stack> <acknowledgements file> < facts
set -eu
stack=$1
acks=$2
unacknowledged=""
while read -r word rtype address; do
  [ "$word" = delete ] || continue
  case "$rtype" in
    aws_iam_role | aws_iam_openid_connect_provider | aws_iam_role_policy_attachment | aws_iam_role_policy | \
      aws_iam_policy | aws_iam_policy_attachment | aws_iam_role_policies_exclusive | \
      aws_iam_role_policy_attachments_exclusive) ;;
    *) continue ;;
  esac
  if [ -f "$acks" ] && awk -v s="$stack" -v a="$address" '$1 !~ /^#/ && $1 == s && $2 == a { f = 1 } END { exit !f }' "$acks"; then
    printf 'deletes %s (acknowledged in deploy-acknowledgements.txt)\n' "$address"
  else
    printf 'deletes %s: NOT acknowledged\n' "$address"
    unacknowledged="$unacknowledged $address"
  fi
done
if [ -n "$unacknowledged" ]; then
  printf 'ERROR: the plan deletes access resources no one acknowledged:%s. If that is meant, add a line "%s <address>" per resource to deploy-acknowledgements.txt in a merge request (docs/pipeline.md, "Deletions"); remove the lines once deployed.\n' "$unacknowledged" "$stack" >&2
  exit 1
fi
