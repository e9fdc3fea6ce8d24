#!/bin/sh
# Summarises a Terraform plan for GitLab's merge-request widget (artifacts:reports:terraform):
#   `terraform show -json <planfile>` → {"create": n, "update": n, "delete": n}
# The same counts as the jq program GitLab documents (doc/user/infrastructure/iac/mr_integration.md):
# every string in .resource_changes[].change.actions, so a replace (["delete","create"] or
# ["create","delete"]) counts once as a create and once as a delete, and no-op and read count nowhere.
# One exception, so that a removal never looks like a harmless in-place change: an update of a role's
# exclusive attachments or inline policies (aws_iam_role_policy_attachments_exclusive,
# aws_iam_role_policies_exclusive) whose list loses entries detaches or deletes them at apply; it counts
# as one delete per entry removed instead of one update (docs/adopting.md).
# POSIX sed and awk only (no jq: the plan job's image is hashicorp/terraform, which has none, and the
# job must not install packages while it holds a token of the default branch).
# Usage: terraform show -json plan.tfplan | sh src/pipeline/plan-summary.sh > plan.json
#        sh src/pipeline/plan-summary.sh plan-show.json > plan.json
set -eu

# 1. sed turns every backslash escape into "_", so no string holds a quote or a backslash any more.
# 2. awk splits the text at the quotes (RS = "\""): odd records lie between strings (the JSON
#    structure), even records are string contents. It tracks the path of containers and keys and
#    counts the strings whose path is resource_changes[].change.actions[].
LC_ALL=C sed 's/\\./_/g' "$@" | LC_ALL=C awk '
function string_value(s) {
  if (depth == 0) { started = 1; return }
  if (depth == 1 && type[1] == "{" && key[1] == "format_version") format_seen = 1
  if (!in_change()) return
  if (depth == 3 && key[3] == "type") change_type = s
  if (depth == 5 && key[3] == "change" && type[4] == "{" && key[4] == "actions" && type[5] == "[") {
    if (s == "create") creates++
    else if (s == "update") { updates++; change_updates++ }
    else if (s == "delete") deletes++
  }
  # The lists of the exclusive resources, before and after.
  if (depth == 6 && key[3] == "change" && type[4] == "{" && type[5] == "{" && type[6] == "[" &&
      (key[5] == "policy_arns" || key[5] == "policy_names")) {
    if (key[4] == "before") { before_count++; before_item[before_count] = s }
    else if (key[4] == "after") after_set[s] = 1
  }
}
# Inside one element of resource_changes (depth 3 or deeper).
function in_change() {
  return depth >= 3 && type[1] == "{" && key[1] == "resource_changes" && type[2] == "[" && type[3] == "{"
}
function change_start() { change_type = ""; change_updates = 0; before_count = 0; split("", after_set) }
function change_end(   i, removed) {
  if (change_updates == 0) return
  if (change_type != "aws_iam_role_policy_attachments_exclusive" && change_type != "aws_iam_role_policies_exclusive") return
  removed = 0
  for (i = 1; i <= before_count; i++) if (!(before_item[i] in after_set)) removed++
  if (removed > 0) { updates -= change_updates; deletes += removed }
}
BEGIN { RS = "\""; depth = 0; pending = 0; started = 0; root_object = 0; format_seen = 0; broken = 0 }
NR % 2 == 0 { text = $0; pending = 1; next }
{
  n = length($0)
  for (i = 1; i <= n; i++) {
    c = substr($0, i, 1)
    if (c == " " || c == "\t" || c == "\n" || c == "\r") continue
    if (pending) {
      pending = 0
      # A string followed by ":" was a key of the object it is in, else it was a value.
      if (c == ":") { key[depth] = text; continue }
      string_value(text)
    }
    if (c == "{" || c == "[") {
      if (depth == 0) { if (started) broken = 1; started = 1; root_object = (c == "{") }
      else if (depth == 1 && type[1] == "{" && key[1] == "format_version") format_seen = 0
      depth++; type[depth] = c; key[depth] = ""
      if (depth == 3 && in_change()) change_start()
    } else if (c == "}" || c == "]") {
      if (depth == 0 || (c == "}") != (type[depth] == "{")) broken = 1
      else { if (depth == 3 && in_change()) change_end(); depth-- }
    } else if (c != "," && c != ":") {
      # The first character of a number, true, false or null.
      if (depth == 0) started = 1
      else if (depth == 1 && type[1] == "{" && key[1] == "format_version") format_seen = 0
      while (i < n && substr($0, i + 1, 1) ~ /[A-Za-z0-9.+-]/) i++
    }
  }
}
END {
  if (pending) string_value(text)
  if (broken || depth != 0 || !root_object || !format_seen) {
    print "plan-summary.sh: not the output of terraform show -json <planfile> (a JSON object with format_version)" > "/dev/stderr"
    exit 1
  }
  printf "{\"create\":%d,\"update\":%d,\"delete\":%d}\n", creates, updates, deletes
}'
