#!/bin/sh
# shellcheck shell=sh
# Reads `terraform show -json <planfile>` (stdin) and prints the facts the deploy path decides on:
#   complete true|false     false for a plan made with -target (Terraform 1.11 sets it so)
#   errored true|false
#   delete <type> <address> one line per resource instance the plan deletes (a replace included)
#   digest <sha256>         of the plan's resource_changes, byte for byte as Terraform wrote them
# The digest identifies what the plan would change (its actions and before/after values), not when or
# where it was made: the timestamp, prior state, drift and configuration are outside it. Two plans of
# the same changes from the same state have the same digest.
# POSIX sed, awk and sha256sum only (the terraform image has no jq).
# Usage: terraform show -json plan.tfplan | sh src/pipeline/plan-check.sh
set -eu

work=$(umask 077 && mktemp -d "${TMPDIR:-/tmp}/plan-check.XXXXXX")
trap 'rm -rf "$work"' EXIT

# 1. sed rewrites the two escapes that hide a quote or a backslash (\\ first, then \") as \u005c and
#    \u0022: afterwards every " in the text is JSON structure, and the change is one-to-one for
#    Terraform's output (Go's encoder writes \\ and \", never \u005c or \u0022).
# 2. awk splits the text at the quotes (RS = "\""): even records are string contents, odd records the
#    structure between strings. It tracks containers and keys, copies the text of the top-level
#    resource_changes value to a file, and reads complete, errored and each change's type, address
#    and actions.
LC_ALL=C sed 's/\\\\/\\u005c/g; s/\\"/\\u0022/g' | LC_ALL=C awk -v raw="$work/changes" '
function emit(t) { if (capturing) printf "%s", t > raw }
function string_value(s) {
  if (depth == 1 && key[1] == "format_version") format_seen = 1
  if (depth == 3 && key[1] == "resource_changes" && type[3] == "{") {
    if (key[3] == "address") address = s
    else if (key[3] == "type") rtype = s
  }
  if (depth == 5 && key[1] == "resource_changes" && key[3] == "change" && key[4] == "actions" && s == "delete") deleting = 1
}
BEGIN { RS = "\""; depth = 0; pending = 0; capturing = 0; complete = "missing"; errored = "missing"; broken = 0 }
NR % 2 == 0 { text = $0; pending = 1; emit("\"" $0 "\""); next }
{
  n = length($0)
  for (i = 1; i <= n; i++) {
    c = substr($0, i, 1)
    if (c == " " || c == "\t" || c == "\n" || c == "\r") { emit(c); continue }
    if (pending) {
      pending = 0
      if (c == ":") {
        key[depth] = text
        if (depth == 1 && text == "resource_changes") { capturing = 1; printf "" > raw; continue }
        emit(c); continue
      }
      string_value(text)
    }
    if (c == "{" || c == "[") {
      emit(c); depth++; type[depth] = c; key[depth] = ""
      if (depth == 3 && key[1] == "resource_changes") { address = ""; rtype = ""; deleting = 0 }
    } else if (c == "}" || c == "]") {
      if (depth == 0 || (c == "}") != (type[depth] == "{")) { broken = 1; continue }
      if (depth == 3 && key[1] == "resource_changes" && deleting) print "delete " rtype " " address
      emit(c); depth--
      if (depth == 1 && capturing) capturing = 0
    } else if (c == ",") {
      if (depth == 1 && capturing) capturing = 0
      emit(c)
    } else {
      # A number, true, false or null.
      w = c
      while (i < n && substr($0, i + 1, 1) ~ /[A-Za-z0-9.+-]/) { i++; w = w substr($0, i, 1) }
      emit(w)
      if (depth == 1 && key[1] == "complete") complete = w
      if (depth == 1 && key[1] == "errored") errored = w
    }
  }
}
END {
  if (broken || depth != 0 || !format_seen) {
    print "plan-check.sh: not the output of terraform show -json <planfile>" > "/dev/stderr"
    exit 1
  }
  print "complete " complete
  print "errored " errored
}' >"$work/facts"
[ -f "$work/changes" ] || printf 'null' >"$work/changes"
cat "$work/facts"
# Back to Terraform's own bytes: \u0022 first, then \u005c (the other order would read the \ of an
# escaped backslash as the start of a \u0022).
set -- $(LC_ALL=C sed 's/\\u0022/\\"/g; s/\\u005c/\\\\/g' "$work/changes" | sha256sum)
printf 'digest %s\n' "$1"
