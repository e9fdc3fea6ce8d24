/**
 * The shape of `gitlab-oidc.yaml`: every key, its type, default and per-field rule, in one place.
 *
 * This schema is the single source for three things: parsing (`load.ts`), the TypeScript types the
 * rest of the code uses, and the published JSON schema (`schema/gitlab-oidc.schema.json`) that editors
 * use to validate and autocomplete the file. Rules that span several fields (duplicates, quotas, the
 * trust policy's size) live in `rules.ts`.
 */
import { meta, z } from "./zod";
import type { GitLabLock } from "../gitlab/lock";
import { UNKNOWN_POLICIES, UNKNOWN_POLICIES_ISSUE, type AdoptedPolicyKey } from "./adoption";
import {
  DEPLOYMENT_TIERS,
  SUB_CLAIM_COMPONENTS,
  SUB_CLAIM_FIRST_COMPONENTS,
  DEFAULT_SUB_CLAIM,
  PIPELINE_SOURCES,
  RUNNER_ENVIRONMENTS,
  USER_ACCESS_LEVELS,
} from "../model/claims";
import {
  descriptionProblem,
  httpsUrlProblem,
  IAM_NAME,
  iamPathProblem,
  kmsKeyArnProblem,
  s3BucketNameProblem,
  s3KeyPrefixProblem,
  misleadingCharacterProblem,
  PARTITIONS,
  tagsProblems,
} from "./validators";

const ACCOUNT_ID = /^\d{12}$/;
/**
 * Git ref names cannot contain `:`, space, `~`, `^`, `[`, `\` or control characters (git
 * check-ref-format); `*` and `?` are our wildcards. Refusing `:` also keeps a pattern from reaching
 * into another part of the `sub` claim; refusing `$`, `{` and `}` keeps IAM and Terraform from reading
 * `${...}` as a policy variable or an interpolation.
 */
// eslint-disable-next-line no-control-regex -- control characters are what it refuses
const REF_PATTERN = /^[^\s:~^[\\"${}\x00-\x1f\x7f]+$/;
const AWS_REGION = /^[a-z]{2}(-[a-z]+)+-\d+$/;
function prefixed(what: string, problem: string | undefined): string | undefined {
  return problem === undefined ? undefined : `${what} ${problem}`;
}

/** A field checked by one of `validators.ts`' rules (the constructs run the same one). */
function checkedBy(problem: (value: string) => string | undefined) {
  return (value: string, ctx: z.core.$RefinementCtx) => {
    const message = problem(value);
    if (message !== undefined) ctx.addIssue({ code: "custom", message });
  };
}

/** A whole number from `min` to `max` (an IAM quota's range), each bound refused with its own message. */
function integerIn(min: number, max: number, messages: { below: string; above: string }) {
  return z
    .number()
    .check(z.int(), z.gte(min, { error: messages.below }), z.lte(max, { error: messages.above }));
}

/** An `https://` URL with a host, an optional port and path, and no trailing slash or query. */
function httpsUrl(what: string) {
  return z.string().check(z.superRefine(checkedBy((value) => httpsUrlProblem(what, value))));
}

export { CLAIM_LIKE_KEYS, UNEVALUATED_CLAIMS } from "./claim-like-keys";

export { PIPELINE_SOURCES, RUNNER_ENVIRONMENTS } from "../model/claims";

/**
 * A GitLab runner tag as the deploy job's `tags:` lists it: no comma (GitLab splits tag lists on it), no
 * `$` (GitLab expands CI/CD variables in `tags:`), no control characters, no surrounding spaces.
 */
const RUNNER_TAG = /^(?! )[^,$\p{Cc}]*(?<! )$/u;

/** A string or a list of strings, as the config allows for audiences. */
const audienceSchema = z.union([z.string(), z.array(z.string())], {
  error: "audience must be a string or a list of strings",
});

const refPatterns = (kind: "branch" | "tag") =>
  z
    .array(
      z.string().check(
        z.minLength(1, { error: `a ${kind} pattern cannot be empty` }),
        z.maxLength(255, { error: `a ${kind} pattern can be at most 255 characters` }),
        z.regex(REF_PATTERN, {
          error: `a ${kind} pattern cannot contain ':', spaces, '~', '^', '[', '\\', '"', '$', '{', '}' or control characters (git forbids most in ref names; IAM reads \${...} as a variable); use '*' and '?' as wildcards`,
        }),
        z.superRefine(checkedBy((value) => prefixed(`a ${kind} pattern`, misleadingCharacterProblem(value)))),
      ),
    )
    .check(z.minLength(1, { error: `list at least one ${kind} pattern, or remove the key` }));

/**
 * `environments:` of a grant: only jobs that deploy to an environment, checked through the `sub` claim
 * (AWS supplies no environment key for any issuer), so it needs the environment parts in gitlab.subClaim.
 */
const environmentsSchema = meta(
  z.strictObject({
    tiers: meta(
      z.optional(
        z
          .array(
            z.enum(DEPLOYMENT_TIERS, { error: `a deployment tier is one of ${DEPLOYMENT_TIERS.join(", ")}` }),
          )
          .check(z.minLength(1, { error: "list at least one deployment tier, or remove the key" })),
      ),
      {
        description:
          "Deployment tiers the job's environment may have (the token's deployment_tier), e.g. [production]. Needs deployment_tier in gitlab.subClaim.",
      },
    ),
    protected: meta(z.optional(z.boolean({ error: "environments.protected must be true or false" })), {
      description:
        "Only protected environments (the token's environment_protected; default true). Needs environment_protected in gitlab.subClaim; false allows unprotected ones on purpose.",
      default: true,
    }),
  }),
  {
    description:
      "Only jobs that deploy to an environment (environment: in .gitlab-ci.yml), by tier and protection; jobs without an environment are denied. Checked through sub: needs environment_protected and/or deployment_tier in gitlab.subClaim and in the projects' ci_id_token_sub_claim_components (GitLab 18.7+).",
  },
);

export const allowEntrySchema = meta(
  z.strictObject({
    project: meta(z.optional(z.string()), {
      description:
        "Exact project path, e.g. acme/web. No wildcards: use `group` to allow every project below a group.",
    }),
    group: meta(z.optional(z.string()), {
      description:
        "Group path, e.g. acme/platform: every project below it, at any depth. Never matches a sibling such as acme/platform-evil.",
    }),
    branches: meta(z.optional(refPatterns("branch")), {
      description:
        'Branch names or patterns (`*` any characters including `/`, `?` one character), e.g. [main, "release/*"].',
    }),
    tags: meta(z.optional(refPatterns("tag")), { description: 'Tag names or patterns, e.g. ["v*"].' }),
    anyRef: meta(
      z.optional(
        z.literal(true, { error: "anyRef can only be true; remove it to restrict by branches/tags" }),
      ),
      {
        description:
          "Allow every branch and tag the other conditions allow (with protected: true, every protected one). Flagged as risky.",
      },
    ),
    protected: meta(z.optional(z.boolean({ error: "protected must be true or false" })), {
      description:
        "Only pipelines for protected branches and tags (default true). gitlab.com: a gitlab.com:ref_protected condition; other issuers: needs ref_protected in gitlab.subClaim. false is flagged in the access report.",
      default: true,
    }),
    pipelineSources: meta(
      z.optional(
        z
          .array(
            z.enum(PIPELINE_SOURCES, { error: `a pipeline source is one of ${PIPELINE_SOURCES.join(", ")}` }),
          )
          .check(z.minLength(1, { error: "list at least one pipeline source, or remove the key" })),
      ),
      {
        description:
          "gitlab.com only: the pipeline sources allowed (the token's pipeline_source), e.g. [push, web] to keep merge-request pipelines out.",
      },
    ),
    runnerEnvironment: meta(
      z.optional(
        z.enum(RUNNER_ENVIRONMENTS, {
          error: `runnerEnvironment is one of ${RUNNER_ENVIRONMENTS.join(", ")}`,
        }),
      ),
      {
        description:
          "gitlab.com only: gitlab-hosted allows only jobs on GitLab-hosted runners (the token's runner_environment).",
      },
    ),
    environments: z.optional(environmentsSchema),
    userAccessLevels: meta(
      z.optional(
        z
          .array(
            z.enum(USER_ACCESS_LEVELS, {
              error: `a user access level is one of ${USER_ACCESS_LEVELS.join(", ")}`,
            }),
          )
          .check(z.minLength(1, { error: "list at least one user access level, or remove the key" })),
      ),
      {
        description:
          "gitlab.com only: the project roles of the user the job runs as that are allowed (the token's user_access_level), e.g. [maintainer, owner] for a deployer.",
      },
    ),
  }),
  {
    description:
      "One grant: a project or a group, and the branches and/or tags whose pipelines may assume the role.",
  },
);

// The JSON schema (for editors) carries IAM's lengths and, where JSON Schema's regex dialect allows, patterns.
const tagsSchema = z
  .record(meta(z.string(), { minLength: 1, maxLength: 128 }), meta(z.string(), { maxLength: 256 }))
  .check(
    z.superRefine((tags, ctx) => {
      for (const [key, message] of tagsProblems(tags)) {
        ctx.addIssue({ code: "custom", message, path: key === "" ? [] : [key] });
      }
    }),
  );

/** An IAM policy document, kept as structured data so the HCL carries it through `jsonencode`. */
const policyDocumentSchema = meta(
  z.looseObject({
    Version: meta(z.enum(["2012-10-17", "2008-10-17"], { error: 'Version must be "2012-10-17"' }), {
      description: 'Policy language version: "2012-10-17".',
    }),
    Statement: meta(
      z.union(
        [z.array(z.record(z.string(), z.unknown())).check(z.minLength(1)), z.record(z.string(), z.unknown())],
        {
          error: "Statement must be a statement object or a non-empty list of them",
        },
      ),
      { description: "The policy's statements (Effect, Action, Resource, …)." },
    ),
  }),
  { description: "An IAM policy document (Version and Statement), written as YAML." },
);

/** The message for a policies key that is not the right shape; `unknown` (from --to-config) says what to do. */
const policiesError =
  (key: AdoptedPolicyKey, shape: string) =>
  (issue: { input?: unknown }): string =>
    // `unknown` (from --to-config) is reported with the role's name by adoptedPolicyProblems.
    issue.input === UNKNOWN_POLICIES ? UNKNOWN_POLICIES_ISSUE : `${key} must be ${shape}`;

/** `adopt: true`: import what already exists instead of creating it (see docs/adopting.md). */
const adoptSchema = (what: string) =>
  meta(z.optional(z.boolean({ error: "adopt must be true or false" })), {
    description: `Adopt ${what} with Terraform import blocks instead of creating it (which fails with EntityAlreadyExists). Harmless to keep once applied. See docs/adopting.md.`,
  });

export const roleSchema = z.strictObject({
  name: meta(
    z
      .string()
      .check(
        z.minLength(1),
        z.maxLength(64, { error: "an IAM role name can be at most 64 characters" }),
        z.regex(IAM_NAME, { error: "an IAM role name may contain only letters, digits and + = , . @ _ -" }),
      ),
    { description: "IAM role name (1–64 characters of letters, digits and + = , . @ _ -)." },
  ),
  description: meta(
    z.optional(
      meta(z.string().check(z.superRefine(checkedBy(descriptionProblem))), {
        maxLength: 1000,
        pattern: "^[\\t\\n\\r\\x20-\\x7e\\u00a1-\\u00ff]*$",
      }),
    ),
    { description: "Shown in the IAM console." },
  ),
  audience: meta(z.optional(audienceSchema), {
    description:
      "Audience(s) this role requires instead of gitlab.audience; the provider accepts the union of all audiences.",
  }),
  allow: meta(
    z
      .array(allowEntrySchema, { error: "allow must be a list of grants" })
      .check(z.minLength(1, { error: "a role needs at least one allow entry" })),
    {
      description:
        "Who may assume the role. Entries are ORed; each grants one project or group and its refs.",
    },
  ),
  managedPolicyArns: meta(
    z._default(
      z.array(z.string(), { error: policiesError("managedPolicyArns", "a list of managed policy ARNs") }),
      [],
    ),
    {
      description:
        "Managed policies to attach (10 per role by default; see limits.managedPoliciesPerRole). An adopted role must list them ([] on purpose for none): docs/adopting.md.",
    },
  ),
  inlinePolicies: meta(
    z._default(
      z.record(
        z.string().check(
          z.maxLength(128, { error: "an inline policy name can be at most 128 characters" }),
          z.regex(IAM_NAME, {
            error: "an inline policy name may contain only letters, digits and + = , . @ _ -",
          }),
        ),
        policyDocumentSchema,
        { error: policiesError("inlinePolicies", "a map of policy names to policy documents") },
      ),
      {},
    ),
    {
      description:
        "Inline policies by name. All of a role's inline policies together: at most 10,240 characters. An adopted role must list them ({} on purpose for none): docs/adopting.md.",
    },
  ),
  maxSessionDuration: meta(
    z._default(
      integerIn(3600, 43200, {
        below: "maxSessionDuration must be at least 3600 seconds (IAM's minimum)",
        above: "maxSessionDuration can be at most 43200 seconds (12 hours)",
      }),
      3600,
    ),
    { description: "Longest session, in seconds (3600–43200)." },
  ),
  permissionsBoundary: meta(z.optional(z.string()), {
    description: "ARN of a managed policy used as the boundary.",
  }),
  path: meta(
    z._default(
      meta(z.string().check(z.superRefine(checkedBy(iamPathProblem))), {
        maxLength: 512,
        pattern: "^/$|^/[\\x21-\\x7e]+/$",
      }),
      "/",
    ),
    { description: "IAM path, e.g. /gitlab/." },
  ),
  tags: meta(z._default(tagsSchema, {}), { description: "Tags on the role." }),
  pinIds: meta(
    z.optional(
      z.literal(false, { error: "a role's pinIds can only be false (otherwise gitlab.pinIds decides)" }),
    ),
    {
      description:
        "false: this role's grants match projects and groups by path only, whatever gitlab.pinIds says (what an adopted trust without ID conditions does today; flagged in the access report). Per role, so no other role loses its pinning.",
    },
  ),
  adopt: adoptSchema("this role, its attachments and inline policies (imported by name)"),
});

export const accountSchema = z.strictObject({
  name: meta(
    z.string().check(
      z.regex(/^[A-Za-z][A-Za-z0-9_-]{0,62}$/, {
        error:
          "an account name becomes the stack and state name: start with a letter, then letters, digits, _ or - (≤ 63)",
      }),
    ),
    { description: "Stack name (also the Terraform state name)." },
  ),
  accountId: meta(
    z
      .string({ error: 'accountId must be a quoted 12-digit string, e.g. "111111111111"' })
      .check(
        z.regex(ACCOUNT_ID, { error: 'accountId must be exactly 12 digits, quoted, e.g. "111111111111"' }),
      ),
    { description: "The AWS account's 12-digit id (quoted, so leading zeros survive)." },
  ),
  region: meta(
    z.string().check(z.regex(AWS_REGION, { error: "region must be an AWS region name such as eu-west-1" })),
    { description: "Region for the AWS provider (IAM is global; STS calls go to this region)." },
  ),
  partition: meta(
    z._default(z.enum(PARTITIONS, { error: `partition must be one of ${PARTITIONS.join(", ")}` }), "aws"),
    { description: "AWS partition of the account." },
  ),
  deployRoleArn: meta(z.optional(z.string()), {
    description:
      "Role the pipeline's deploy job assumes (through its deployer role) to apply this stack; never in the HCL.",
  }),
  deployRunnerTags: meta(
    z.optional(
      z
        .array(
          z.string().check(
            z.minLength(1, { error: "a runner tag cannot be empty" }),
            z.maxLength(255, { error: "a runner tag can be at most 255 characters" }),
            z.regex(RUNNER_TAG, {
              error:
                "a runner tag cannot contain ',' (GitLab splits tags on it), '$' (GitLab expands variables in tags:, so a pipeline variable could pick the runner), control characters or leading/trailing spaces",
            }),
          ),
        )
        .check(
          z.minLength(1, { error: "list at least one runner tag, or remove the key" }),
          z.maxLength(50, { error: "at most 50 runner tags" }),
        ),
    ),
    {
      description:
        "Runner tags of the generated deploy:<stack> job (with GitLab-managed state): tag the protected runner you trust with this account's deployer, e.g. [aws-deploy]. Without it any runner of the project may pick up the deploy.",
    },
  ),
  provider: meta(
    z._default(
      z.enum(["create", "existing"], { error: 'provider must be "create" or "existing"' }),
      "create",
    ),
    {
      description:
        "`create` makes the IAM OIDC provider; `existing` looks up the one the account already has for this GitLab URL.",
    },
  ),
  tags: meta(z._default(tagsSchema, {}), {
    description: "Default tags for every resource in this account's stack.",
  }),
  adopt: adoptSchema("the account's OIDC provider (with provider: create) and every role listed here"),
  pipeline: meta(
    z.optional(
      z.strictObject({
        planner: meta(
          z.string().check(z.regex(IAM_NAME, { error: "planner must name a role of this account" })),
          {
            description:
              "The role this stack's plan jobs assume (read-only): with state.type s3 it may read the stack's state.",
          },
        ),
        deployer: meta(
          z.string().check(z.regex(IAM_NAME, { error: "deployer must name a role of this account" })),
          {
            description:
              "The role this stack's deploy jobs assume: with state.type s3 it (or deployRoleArn, when set) is the only one that may write the stack's state.",
          },
        ),
      }),
    ),
    {
      description:
        "Which of this account's roles the repository's own pipeline uses to plan and to deploy this stack. Required with state.type s3, whose state permissions are generated for them.",
    },
  ),
  roles: meta(z.array(roleSchema).check(z.minLength(1, { error: "an account needs at least one role" })), {
    description: "Web-identity roles in this account.",
  }),
});

export const stateSchema = meta(
  z._default(
    z.discriminatedUnion(
      "type",
      [
        z.strictObject({ type: z.literal("local") }),
        z.strictObject({
          type: z.literal("s3"),
          bucket: meta(z.string().check(z.superRefine(checkedBy(s3BucketNameProblem))), {
            description: "The S3 bucket holding every stack's state (S3's naming rules).",
          }),
          region: meta(
            z
              .string()
              .check(
                z.regex(AWS_REGION, { error: "state.region must be an AWS region name such as eu-west-1" }),
              ),
            { description: "The bucket's region." },
          ),
          account: meta(z.string(), {
            description:
              "Name of the config account that owns the bucket: the bootstrap stack (gitlab-oidc-state) is deployed there.",
          }),
          keyPrefix: meta(
            z._default(z.string().check(z.superRefine(checkedBy(s3KeyPrefixProblem))), "gitlab-oidc-aws/"),
            { description: "Prefix of the state objects: <keyPrefix><stack>.tfstate." },
          ),
          kmsKeyArn: meta(z.optional(z.string().check(z.superRefine(checkedBy(kmsKeyArnProblem)))), {
            description:
              "A customer managed KMS key (its ARN) for the state objects; default SSE-S3 (AES-256). The planners get kms:Decrypt, the deployers also kms:Encrypt and kms:GenerateDataKey.",
          }),
          breakGlassRoleArn: meta(z.string(), {
            description:
              "The one role besides the deployers that may write state objects (recovery by hand), in the bucket's account; it alone writes the bootstrap stack's state.",
          }),
        }),
        z.strictObject({
          type: z.literal("gitlab"),
          url: meta(httpsUrl("state.url"), {
            description: "GitLab instance holding the state, e.g. https://gitlab.example.com.",
          }),
          projectId: meta(
            z.union(
              [
                z.number().check(z.int(), z.positive()),
                z.string().check(z.regex(/^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)+$/)),
              ],
              {
                error:
                  "projectId must be the numeric project id or the full project path (acme/platform/oidc)",
              },
            ),
            { description: "Project whose GitLab-managed Terraform state stores the stacks." },
          ),
        }),
      ],
      { error: 'state.type must be "local", "gitlab" or "s3"' },
    ),
    { type: "local" },
  ),
  {
    description:
      "Where Terraform state lives: local files, GitLab-managed state (credentials from TF_HTTP_USERNAME / TF_HTTP_PASSWORD), or an S3 bucket only the deployers can write (docs/state.md).",
  },
);

export const configSchema = meta(
  z.strictObject({
    $schema: meta(z.optional(z.string()), { description: "Path of this JSON schema, for editors." }),
    gitlab: meta(
      z.strictObject({
        url: meta(httpsUrl("gitlab.url"), {
          description:
            "The GitLab instance (token issuer), e.g. https://gitlab.com. A path is allowed for relative-URL installs.",
        }),
        issuer: meta(z.optional(httpsUrl("gitlab.issuer")), {
          description:
            "The ID tokens' iss, when the instance publishes its discovery document elsewhere (ci_id_tokens_issuer_url, GitLab 18.1+). The IAM provider URL and condition keys follow it; API calls use url. Default: url.",
        }),
        audience: meta(z.optional(audienceSchema), {
          description:
            "Audience(s) the ID token's aud must equal. Default: sts.amazonaws.com (GitLab's and AWS's guides; before component 2.0.0 the default was the GitLab URL: list both while jobs move).",
        }),
        subClaim: meta(
          z.optional(
            z
              .array(
                z.enum(SUB_CLAIM_COMPONENTS, {
                  error: `a sub claim component is one of ${SUB_CLAIM_COMPONENTS.join(", ")}`,
                }),
              )
              .check(
                z.superRefine((components, ctx) => {
                  if (!(SUB_CLAIM_FIRST_COMPONENTS as readonly string[]).includes(components[0] ?? "")) {
                    ctx.addIssue({
                      code: "custom",
                      message:
                        "the first sub claim component must be project_path or project_id (GitLab's rule)",
                    });
                  }
                  components.forEach((component, i) => {
                    if (i > 0 && (SUB_CLAIM_FIRST_COMPONENTS as readonly string[]).includes(component)) {
                      ctx.addIssue({
                        code: "custom",
                        path: [i],
                        message: `${component} can only be the first component`,
                      });
                    } else if (components.indexOf(component) !== i) {
                      ctx.addIssue({ code: "custom", path: [i], message: `${component} is listed twice` });
                    }
                  });
                }),
              ),
          ),
          {
            description:
              "The projects' ci_id_token_sub_claim_components, in order: project_path or project_id first, then any of ref_type, ref, ref_protected, environment_protected, deployment_tier.",
            default: [...DEFAULT_SUB_CLAIM],
          },
        ),
        pinIds: meta(z.optional(z.boolean({ error: "pinIds must be true or false" })), {
          description:
            "gitlab.com: pin the project and namespace IDs from gitlab-oidc.lock.yaml (default true there; false is flagged). Other issuers supply no ID keys.",
        }),
        thumbprints: meta(
          z._default(
            z.union(
              [
                z.literal("auto"),
                z
                  .array(
                    z.string().check(
                      z.regex(/^[0-9A-Fa-f]{40}$/, {
                        error: "a thumbprint is 40 hexadecimal characters (SHA-1)",
                      }),
                    ),
                  )
                  .check(z.maxLength(5, { error: "IAM accepts at most 5 thumbprints" })),
              ],
              { error: 'thumbprints must be "auto" or a list of 40-hex SHA-1 thumbprints' },
            ),
            [],
          ),
          {
            description:
              "Server certificate thumbprints: none for instances with publicly trusted certificates (gitlab.com), pinned SHA-1s, or `auto` to read them with the TLS provider.",
          },
        ),
      }),
      { description: "The GitLab instance whose ID tokens are trusted." },
    ),
    state: stateSchema,
    limits: meta(
      z._default(
        z.strictObject({
          trustPolicyLength: meta(
            z._default(
              integerIn(2048, 8192, {
                below: "trustPolicyLength cannot be below IAM's default of 2048",
                above: "trustPolicyLength can be at most 8192",
              }),
              2048,
            ),
            { description: "Your account's role trust policy quota (ACLSizePerRole), if raised." },
          ),
          managedPoliciesPerRole: meta(
            z._default(
              integerIn(10, 20, {
                below: "managedPoliciesPerRole cannot be below IAM's default of 10",
                above: "managedPoliciesPerRole can be at most 20 (IAM's hard limit)",
              }),
              10,
            ),
            {
              description:
                "Your account's managed-policies-per-role quota, if raised (10 by default, 20 at most).",
            },
          ),
        }),
        { trustPolicyLength: 2048, managedPoliciesPerRole: 10 },
      ),
      { description: "IAM quotas in force in your accounts." },
    ),
    accounts: meta(z.array(accountSchema).check(z.minLength(1, { error: "list at least one account" })), {
      description: "AWS accounts; each becomes one Terraform stack with its own state.",
    }),
  }),
  {
    title: "gitlab-oidc-aws configuration",
    description:
      "Which GitLab projects, groups, branches and tags may assume which AWS IAM roles in which accounts.",
  },
);

/** The config file as parsed. */
export type ConfigFile = z.output<typeof configSchema>;
/** The config with the lock read beside it (`gitlab-oidc.lock.yaml`); no lock means an empty one. */
export type Config = ConfigFile & { readonly lock?: GitLabLock };
export type AccountConfig = Config["accounts"][number];
export type RoleConfig = AccountConfig["roles"][number];
export type AllowEntry = RoleConfig["allow"][number];
export type StateConfig = Config["state"];
export type PolicyDocument = RoleConfig["inlinePolicies"][string];
export { PARTITIONS };
