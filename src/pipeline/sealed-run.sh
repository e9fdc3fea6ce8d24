#!/bin/sh
# shellcheck shell=sh
# The sealed launcher: every job of this pipeline that touches AWS or Terraform runs through it
# (POSIX sh: dash, bash, BusyBox). Usage, as the job's only script line:
#   sh src/pipeline/sealed-run.sh plan|deploy
#
# A pipeline variable (Run pipeline, a schedule, a trigger, the API, a push option, a manual job's
# variables) outranks every variable the committed YAML sets, predefined ones included. So the job's
# environment is evidence, not configuration. This script:
#   1. refuses, by name, every variable that is set and known to steer the tools the job runs
#      (Terraform, git, the AWS SDK and CLI, TLS, the shell, the dynamic loader), and every value of
#      the few variables it needs that does not pass its check;
#   2. takes what the job does from committed files only: terraform/pipeline/<stack>.<step>.env,
#      written by `npm run synth` from the reviewed config (the stack's directory, account, audience,
#      region and AWS profiles), and the committed component script;
#   3. starts src/pipeline/sealed-step.sh with `env -i` and an explicit list of names: nothing else
#      of the job's environment reaches Terraform, git or the credential step. A variable that is
#      neither needed nor known to steer anything is simply not passed.
# The two secrets (the ID token and the job token) travel through a private file, not the command
# line, which every process on the machine can read.
set -eu
# Names come from the environment: no pathname expansion of them.
set -f

sealed_fail() {
  printf 'sealed-run: ERROR: %s\n' "$*" >&2
  exit 1
}

step=${1:-}
case "$step" in
  plan | deploy | release) ;;
  *) sealed_fail "usage: sh src/pipeline/sealed-run.sh plan|deploy|release" ;;
esac

# The checkout is where this script lies (src/pipeline/ in it), resolved physically.
case "$0" in */*) here=${0%/*} ;; *) here=. ;; esac
here=$(cd -P "$here" && pwd -P) || sealed_fail "cannot resolve the directory of $0"
root=${here%/src/pipeline}
[ "$root" != "$here" ] && [ -n "$root" ] || sealed_fail "$0 is not src/pipeline/sealed-run.sh in a checkout"

# --- 1. names known to steer a tool: refused when set to anything ------------------------------------
# Names of set, non-empty variables, one per line (awk's ENVIRON survives values with newlines).
names=$(awk 'BEGIN { for (k in ENVIRON) if (ENVIRON[k] != "") print k }' | LC_ALL=C sort)

# Succeeds when NAME steers a tool this job runs. GIT_* names that only the runner reads (they shape
# the checkout, before this script) are not refused; they do not reach the child either.
sealed_steers() {
  case "$1" in
    GIT_STRATEGY | GIT_DEPTH | GIT_CHECKOUT | GIT_CLEAN_FLAGS | GIT_FETCH_EXTRA_FLAGS | GIT_CLONE_PATH | \
      GIT_SUBMODULE_STRATEGY | GIT_SUBMODULE_DEPTH | GIT_SUBMODULE_PATHS | GIT_SUBMODULE_UPDATE_FLAGS | \
      GIT_SUBMODULE_FORCE_HTTPS | GIT_LFS_SKIP_SMUDGE) return 1 ;;
    # Terraform: CLI arguments, provider reattachment, logs, CLI config, plugins, variables, the
    # backend's HTTP settings, registry tokens; this launcher sets TF_IN_AUTOMATION, TF_INPUT and the
    # state credentials itself.
    TF_* | TERRAFORM_CONFIG | CHECKPOINT_*) return 0 ;;
    # git: config injection (GIT_CONFIG_COUNT/KEY/VALUE, GIT_CONFIG_PARAMETERS), ssh and askpass
    # commands, exec path, object and work-tree redirection, TLS switches, tracing.
    GIT_*) return 0 ;;
    # Proxies, in every spelling the tools read.
    *_PROXY | *_proxy | *_Proxy) return 0 ;;
    # AWS SDK/CLI settings (endpoints, CA bundle, profiles, config and credential files, credentials,
    # metadata endpoints): the credential step writes the only ones the job uses. The component's own
    # AWS_CREDENTIALS_* must be what the committed manifest says (checked below).
    AWS_ID_TOKEN | AWS_CREDENTIALS_*) return 1 ;;
    AWS_*) return 0 ;;
    # TLS trust and key logging.
    SSL_CERT_FILE | SSL_CERT_DIR | SSLKEYLOGFILE | CURL_CA_BUNDLE | CURL_HOME | REQUESTS_CA_BUNDLE | \
      OPENSSL_* | NODE_EXTRA_CA_CERTS | NODE_TLS_REJECT_UNAUTHORIZED) return 0 ;;
    # Interpreters, the dynamic loader and the shell's start-up files.
    NODE_OPTIONS | NODE_PATH | LD_* | DYLD_* | GCONV_PATH | BASH_ENV | ENV | SHELLOPTS | BASHOPTS | \
      BASH_FUNC_* | PS4 | CDPATH | IFS | GODEBUG | GOFLAGS | PYTHONPATH | PYTHONSTARTUP | PYTHONHOME | \
      PERL5LIB | PERL5OPT | PERLLIB | RUBYOPT | RUBYLIB | JAVA_TOOL_OPTIONS | LOCPATH | HOSTALIASES | \
      RES_OPTIONS | LOCALDOMAIN | NETRC | XDG_CONFIG_HOME | XDG_CONFIG_DIRS | SSH_AUTH_SOCK) return 0 ;;
  esac
  return 1
}

refused=""
for name in $names; do
  if sealed_steers "$name"; then refused="$refused $name"; fi
done
if [ -n "$refused" ]; then
  sealed_fail "refusing to run $step: these variables are set and would change what the job does:$refused. Nothing in a plan or deploy job reads them; unset them (a pipeline, schedule, trigger or project variable) and run the job again (docs/pipeline.md, \"The sealed launcher\")."
fi

# --- 2. the committed manifest ---------------------------------------------------------------------
sealed_value() { eval "printf '%s' \"\${$1:-}\""; }
# No control characters (newline, escape, DEL): nothing the job prints or writes may be steered.
sealed_printable() { case "$1" in *[[:cntrl:]]*) return 1 ;; esac; }

# A release job (the component's tag pipeline) has no stack: no manifest, no AWS credentials.
stack="" m_GITLAB_URL="" m_STATE_TYPE=""
if [ "$step" != release ]; then
  stack=$(sealed_value STACK)
  printf '%s\n' "$stack" | grep -Eq '^[A-Za-z][A-Za-z0-9_-]{0,62}$' ||
    sealed_fail "STACK '$stack' is not a stack name (a letter, then letters, digits, _ or -)"
  manifest="$root/terraform/pipeline/$stack.$step.env"
  [ -f "$manifest" ] && [ ! -L "$manifest" ] ||
    sealed_fail "terraform/pipeline/$stack.$step.env is not committed: no $step job for stack $stack (run npm run synth)"

  manifest_names=""
  while IFS= read -r line || [ -n "$line" ]; do
    case "$line" in '' | '#'*) continue ;; esac
    mname=${line%%=*}
    mvalue=${line#*=}
    sealed_printable "$mvalue" || sealed_fail "terraform/pipeline/$stack.$step.env: $mname holds a control character"
    case "$mname" in
      GITLAB_URL | STATE_TYPE | TF_ROOT | ACCOUNT_ID | ROLE_VARIABLE | AUDIENCE | AWS_CREDENTIALS_MODE | AWS_CREDENTIALS_REGION | \
        AWS_CREDENTIALS_PROFILES | AWS_CREDENTIALS_DEFAULT_PROFILE | AWS_CREDENTIALS_STS_ENDPOINT)
        eval "m_$mname=\$mvalue"
        manifest_names="$manifest_names $mname" ;;
      *) sealed_fail "terraform/pipeline/$stack.$step.env: unknown setting '$mname' (regenerate it with npm run synth)" ;;
    esac
  done <"$manifest"
  for mname in GITLAB_URL TF_ROOT ACCOUNT_ID ROLE_VARIABLE AUDIENCE; do
    [ -n "$(sealed_value "m_$mname")" ] ||
      sealed_fail "terraform/pipeline/$stack.$step.env has no $mname (regenerate it with npm run synth)"
  done
  case "${m_STATE_TYPE:-gitlab}" in gitlab | s3) ;; *) sealed_fail "terraform/pipeline/$stack.$step.env: STATE_TYPE '$m_STATE_TYPE' is not gitlab or s3" ;; esac
  printf '%s\n' "$m_ROLE_VARIABLE" | grep -Eq '^[A-Z][A-Z0-9_]*$' ||
    sealed_fail "terraform/pipeline/$stack.$step.env: ROLE_VARIABLE '$m_ROLE_VARIABLE' is not a variable name"
  case "$m_TF_ROOT" in /* | *..* | *[!A-Za-z0-9_./-]*) sealed_fail "terraform/pipeline/$stack.$step.env: TF_ROOT '$m_TF_ROOT' is not a directory inside the checkout" ;; esac

  # The component's settings: only the committed ones. A different value in the environment is an
  # override (e.g. AWS_CREDENTIALS_PROFILES re-pointed at another account's role, AWS_CREDENTIALS_AWS_CLI
  # naming another program, AWS_CREDENTIALS_STS_ENDPOINT), refused.
  overridden=""
  for name in $names; do
    case "$name" in
      AWS_CREDENTIALS_*[!A-Za-z0-9_]*) overridden="$overridden $name" ;;
      AWS_CREDENTIALS_*)
        case " $manifest_names " in
          *" $name "*) [ "$(sealed_value "$name")" = "$(sealed_value "m_$name")" ] || overridden="$overridden $name" ;;
          *) overridden="$overridden $name" ;;
        esac ;;
    esac
  done
  if [ -n "$overridden" ]; then
    sealed_fail "refusing to run $step: the component's settings differ from the committed terraform/pipeline/$stack.$step.env:$overridden (the committed config decides the credentials; unset these variables)"
  fi
fi

# --- 3. the few values taken from the environment, each checked ------------------------------------
sealed_need() {
  _v=$(sealed_value "$1")
  [ -n "$_v" ] || sealed_fail "$1 is not set: run this in a GitLab CI/CD job"
  sealed_printable "$_v" || sealed_fail "$1 holds a control character"
  printf '%s' "$_v"
}
project_dir=$(sealed_need CI_PROJECT_DIR)
case "$project_dir" in /*) ;; *) sealed_fail "CI_PROJECT_DIR '$project_dir' is not an absolute path" ;; esac
physical=$(cd -P "$project_dir" 2>/dev/null && pwd -P) || sealed_fail "CI_PROJECT_DIR '$project_dir' is not a directory"
[ "$physical" = "$root" ] || sealed_fail "CI_PROJECT_DIR '$project_dir' is not the checkout this script is in ($root)"

server_url=$(sealed_need CI_SERVER_URL)
case "$server_url" in https://?* | http://127.0.0.1[:/]* | http://127.0.0.1) ;; *) sealed_fail "CI_SERVER_URL '$server_url' is not an https URL" ;; esac
[ "$step" = release ] || [ "${server_url%/}" = "${m_GITLAB_URL%/}" ] ||
  sealed_fail "CI_SERVER_URL '$server_url' is not the committed GitLab instance $m_GITLAB_URL (state.url, or gitlab.url, in the config): the job token goes nowhere else"

commit_sha=$(sealed_need CI_COMMIT_SHA)
printf '%s\n' "$commit_sha" | grep -Eq '^[0-9a-f]{40}$' || sealed_fail "CI_COMMIT_SHA '$commit_sha' is not a commit SHA"
for name in CI_JOB_ID CI_PIPELINE_ID CI_PROJECT_ID; do
  v=$(sealed_value "$name")
  case "$v" in '' | *[!0-9]*) sealed_fail "$name '$v' is not a number" ;; esac
done

job_token=$(sealed_need CI_JOB_TOKEN)
case "$job_token" in *[!A-Za-z0-9_.:+/=-]*) sealed_fail "CI_JOB_TOKEN holds characters a job token never has" ;; esac
id_token="" role_arn="" profiles=""
if [ "$step" != release ]; then
  id_token=$(sealed_need AWS_ID_TOKEN)
  printf '%s\n' "$id_token" | grep -Eq '^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$' ||
    sealed_fail "AWS_ID_TOKEN is not a JWT: declare it under id_tokens, never as a variable"
  # The token's audience must be the committed one of this stack and step: a plan job's token, or
  # another stack's deploy token, is refused here already (STS would refuse it too: the deployer of
  # each stack accepts only its own audience). The signature is STS's to check, not ours.
  payload=${id_token#*.}
  payload=$(printf '%s' "${payload%%.*}" | tr '_-' '/+')
  case $((${#payload} % 4)) in 2) payload="$payload==" ;; 3) payload="$payload=" ;; esac
  aud=$(printf '%s' "$payload" | base64 -d 2>/dev/null | LC_ALL=C tr -d '\000-\037\177' |
    sed -n 's/.*"aud"[[:space:]]*:[[:space:]]*"\([^"]*\)".*/\1/p') || aud=""
  [ "$aud" = "$m_AUDIENCE" ] ||
    sealed_fail "the job's ID token has the audience '$aud', not $m_AUDIENCE (the committed audience of $step jobs of stack $stack): refusing to use it"

  role_arn=$(sealed_value "$m_ROLE_VARIABLE")
  printf '%s\n' "$role_arn" | grep -Eq '^arn:aws(-[a-z]+)*:iam::[0-9]{12}:role/([A-Za-z0-9_+=,.@-]+/)*[A-Za-z0-9_+=,.@-]{1,64}$' ||
    sealed_fail "the CI/CD variable $m_ROLE_VARIABLE is not set to an IAM role ARN: give it the ARN of the role this job assumes with its ID token (docs/pipeline.md, Credentials)"
  role_account=${role_arn#arn:*:iam::}
  role_account=${role_account%%:*}
  [ "$role_account" = "$m_ACCOUNT_ID" ] ||
    sealed_fail "$m_ROLE_VARIABLE names a role in account $role_account, but stack $stack is account $m_ACCOUNT_ID (the committed config)"
  # The role's ARN goes into the committed profiles where the generator left its placeholder.
  profiles=$(printf '%s' "${m_AWS_CREDENTIALS_PROFILES:-}" | sed "s#\"@ROLE_ARN@\"#\"$role_arn\"#g")
fi

# --- 4. the child, from an empty environment -------------------------------------------------------
private=$(umask 077 && mktemp -d "${TMPDIR:-/tmp}/sealed-run.XXXXXX") || sealed_fail "cannot create a private directory"
case "$private" in /*) ;; *) sealed_fail "the private directory '$private' is not absolute" ;; esac
mkdir "$private/home" "$private/tmp"
printf '%s\n%s\n' "$id_token" "$job_token" >"$private/secrets"
unset id_token job_token

if [ "$step" = release ]; then
  printf 'sealed-run: %s, sealed\n' "$step" >&2
else
  printf 'sealed-run: %s of stack %s, sealed (committed settings: terraform/pipeline/%s.%s.env)\n' "$step" "$stack" "$stack" "$step" >&2
fi
set +e
env -i \
  PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  HOME="$private/home" TMPDIR="$private/tmp" LC_ALL=C \
  SEALED_PRIVATE="$private" SEALED_STEP="$step" \
  CI_PROJECT_DIR="$root" CI_SERVER_URL="${server_url%/}" CI_COMMIT_SHA="$commit_sha" \
  CI_JOB_ID="$(sealed_value CI_JOB_ID)" CI_PIPELINE_ID="$(sealed_value CI_PIPELINE_ID)" \
  CI_PROJECT_ID="$(sealed_value CI_PROJECT_ID)" \
  STACK="$stack" TF_ROOT="$m_TF_ROOT" STATE_TYPE="${m_STATE_TYPE:-gitlab}" \
  AWS_CREDENTIALS_MODE="${m_AWS_CREDENTIALS_MODE:-profiles}" AWS_CREDENTIALS_REGION="${m_AWS_CREDENTIALS_REGION:-}" \
  AWS_CREDENTIALS_PROFILES="$profiles" AWS_CREDENTIALS_DEFAULT_PROFILE="${m_AWS_CREDENTIALS_DEFAULT_PROFILE:-}" \
  AWS_CREDENTIALS_STS_ENDPOINT="${m_AWS_CREDENTIALS_STS_ENDPOINT:-}" \
  /bin/sh "$root/src/pipeline/sealed-step.sh"
status=$?
set -e
rm -rf "$private"
exit "$status"
