# shellcheck shell=sh
# Sourced by every deploy job before anything else: `. src/pipeline/deploy-env.sh` (POSIX sh).
# A pipeline variable (run pipeline, schedule, trigger, API, push option, a manual job's variables)
# outranks every variable in the YAML. The YAML's own values are literal where it matters (images,
# token audience); this drops, from the job's shell, the settings that could send the deploy job's ID
# token, credentials or state somewhere else, or change what Terraform runs:
#   AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_* and the component's AWS_CREDENTIALS_STS_ENDPOINT (a token sent
#   to a stranger's "STS" could be replayed against the real one); inherited AWS credentials and
#   profile settings (the component sets its own next); TF_CLI_ARGS*, TF_VAR_*, TF_CLI_CONFIG_FILE,
#   TF_PLUGIN_CACHE_DIR, TF_DATA_DIR, TF_WORKSPACE; TF_HTTP_* (the backend's address and method), with
#   TF_HTTP_USERNAME / TF_HTTP_PASSWORD set again to the job token.
# It prints the names it drops, never their values.

_gitlab_oidc_dropped=""
for _gitlab_oidc_name in \
  $(env | sed -n 's/^\(AWS_ENDPOINT_URL[A-Za-z0-9_]*\)=.*/\1/p; s/^\(TF_CLI_ARGS[A-Za-z0-9_]*\)=.*/\1/p; s/^\(TF_VAR_[A-Za-z0-9_]*\)=.*/\1/p; s/^\(TF_HTTP_[A-Za-z0-9_]*\)=.*/\1/p') \
  AWS_CREDENTIALS_STS_ENDPOINT AWS_IGNORE_CONFIGURED_ENDPOINT_URLS \
  AWS_CONFIG_FILE AWS_SHARED_CREDENTIALS_FILE AWS_PROFILE AWS_DEFAULT_PROFILE \
  AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_ROLE_ARN AWS_WEB_IDENTITY_TOKEN_FILE \
  AWS_ROLE_SESSION_NAME AWS_STS_REGIONAL_ENDPOINTS \
  TF_CLI_CONFIG_FILE TF_PLUGIN_CACHE_DIR TF_DATA_DIR TF_WORKSPACE; do
  case "$_gitlab_oidc_name" in TF_HTTP_USERNAME | TF_HTTP_PASSWORD) continue ;; esac
  if eval "[ -n \"\${$_gitlab_oidc_name+set}\" ]"; then
    # An empty value (the component's own empty sts_endpoint input) is not worth a line in the log.
    if eval "[ -n \"\${$_gitlab_oidc_name}\" ]"; then
      _gitlab_oidc_dropped="$_gitlab_oidc_dropped $_gitlab_oidc_name"
    fi
    unset "$_gitlab_oidc_name"
  fi
done
export TF_HTTP_USERNAME=gitlab-ci-token
export TF_HTTP_PASSWORD="${CI_JOB_TOKEN:-}"
if [ -n "$_gitlab_oidc_dropped" ]; then
  printf 'deploy-env: ignoring%s (a deploy job uses AWS endpoints, its own credentials and the committed configuration only)\n' \
    "$_gitlab_oidc_dropped" >&2
fi
unset _gitlab_oidc_dropped _gitlab_oidc_name
