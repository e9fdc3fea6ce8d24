/**
 * The aws-credentials component and the consumer fixture are valid GitLab CI YAML: the body (and the
 * consumer pipeline) against GitLab's own CI schema, the spec header checked for the inputs contract.
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import Ajv from "ajv";
import { parseAllDocuments, type Tags } from "yaml";
import { componentFile, consumerFixture } from "../support/ci-local";
import { gitlabCiSchemaFile as schemaFile } from "../support/pipeline-repo";

/** GitLab's `!reference [job, key]` tag, kept as the plain sequence the schema describes. */
const customTags: Tags = [{ tag: "!reference", collection: "seq", resolve: (seq) => seq }];

function documents(file: string): unknown[] {
  const docs = parseAllDocuments(readFileSync(file, "utf8"), { customTags });
  if (!Array.isArray(docs)) throw new Error(`${file}: not YAML documents`);
  for (const doc of docs) if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors.join("; ")}`);
  return docs.map((doc) => doc.toJS());
}

function validator(): (data: unknown) => string[] {
  const schema = JSON.parse(readFileSync(schemaFile, "utf8")) as object;
  const ajv = new Ajv({ strict: false, allErrors: true, logger: false });
  const validate = ajv.compile(schema);
  return (data) =>
    validate(data) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);
}

describe("aws-credentials component YAML", () => {
  const [header, body] = documents(componentFile) as [Record<string, unknown>, Record<string, unknown>];
  const validate = validator();

  it("has a spec header with exactly the agreed inputs and defaults", () => {
    // GIVEN the component's first YAML document
    const inputs = (header.spec as { inputs: Record<string, Record<string, unknown>> }).inputs;
    // THEN it is only a spec, valid against the schema's spec definition
    expect(Object.keys(header)).toEqual(["spec"]);
    expect(validate(header)).toEqual([]);
    // AND the inputs are the interface contract
    expect(Object.keys(inputs).sort()).toEqual(
      [
        "allowed_account_ids",
        "aud",
        "default_profile",
        "duration_seconds",
        "job",
        "mask_account_id",
        "mode",
        "profiles",
        "region",
        "role_arn",
        "session_name",
        "session_policy",
        "session_policy_arns",
        "sts_endpoint",
      ].sort(),
    );
    // (role_arn is empty by default because mode profiles needs none; the other modes refuse it empty)
    expect(inputs.role_arn).toMatchObject({ type: "string", default: "" });
    expect(inputs.aud!.default).toBe("sts.amazonaws.com");
    // (no default region: the job's AWS_REGION, else the script stops naming the input)
    expect(inputs.region!.default).toBe("");
    expect(inputs.job!.default).toBe(".aws-credentials");
    expect(inputs.session_policy!.default).toBe("");
    expect(inputs.session_policy_arns).toMatchObject({ type: "array", default: [] });
    expect(inputs.allowed_account_ids).toMatchObject({ type: "array", default: [] });
    expect(inputs.mask_account_id).toMatchObject({ type: "boolean", default: false });
    expect(inputs.duration_seconds).toMatchObject({ type: "number", default: 3600 });
    expect(inputs.session_name!.default).toBe("");
    expect(inputs.mode).toMatchObject({
      default: "exports",
      options: ["exports", "web-identity", "profiles"],
    });
    expect(inputs.profiles).toMatchObject({ type: "array", default: [] });
    expect(inputs.default_profile!.default).toBe("");
    expect(inputs.sts_endpoint!.default).toBe("");
    // AND the catalog shows a description for every input
    for (const [name, input] of Object.entries(inputs)) {
      expect([name, typeof input.description]).toEqual([name, "string"]);
    }
  });

  it("checks string inputs with regexes that accept the documented values and refuse typos", () => {
    // GIVEN the inputs' regexes as GitLab applies them (to the raw value, before variables expand)
    const inputs = (header.spec as { inputs: Record<string, { regex?: string }> }).inputs;
    const accepts = (name: string, value: string) => new RegExp(inputs[name]!.regex!).test(value);
    const table: [string, string, boolean][] = [
      ["role_arn", "arn:aws:iam::111111111111:role/gitlab/gitlab-deploy-web", true],
      ["role_arn", "arn:aws-us-gov:iam::111111111111:role/deploy", true],
      ["role_arn", "$PROD_ROLE_ARN", true],
      ["role_arn", "${PROD_ROLE_ARN}", true],
      ["role_arn", "", true],
      ["role_arn", "arn:aws:iam::11111111111:role/deploy", false],
      ["role_arn", "arn:aws:iam::111111111111:user/deploy", false],
      ["role_arn", "arn:aws:iam::111111111111:role/", false],
      ["role_arn", `arn:aws:iam::111111111111:role/${"a".repeat(65)}`, false],
      ["role_arn", "arn:aws:iam::111111111111:role/x y", false],
      ["job", ".aws-credentials", true],
      ["job", ".aws-credentials-staging", true],
      ["job", ".aws-credentials-", false],
      ["job", "deploy", false],
      ["job", ".aws-credentials-a b", false],
      ["region", "", true],
      ["region", "eu-west-1", true],
      ["region", "us-gov-west-1", true],
      ["region", "eu-west1", false],
      ["region", "EU-WEST-1", false],
      ["session_name", "deploy-$CI_PIPELINE_ID", true],
      ["session_name", "my session", false],
      ["sts_endpoint", "", true],
      ["sts_endpoint", "https://sts.eu-west-1.amazonaws.com", true],
      ["sts_endpoint", "http://127.0.0.1:4566", true],
      ["sts_endpoint", "http://localhost:4566/", true],
      ["sts_endpoint", "http://[::1]:4566", true],
      ["sts_endpoint", "$STS_ENDPOINT", true],
      ["sts_endpoint", "http://sts.example.com", false],
      ["sts_endpoint", "http://127.0.0.1.evil.example", false],
      ["sts_endpoint", "ftp://sts.example.com", false],
      ["sts_endpoint", "http://127.0.0.1:x@evil.example/", false],
      ["sts_endpoint", "https://sts.amazonaws.com@evil.example/", false],
      ["sts_endpoint", "https://sts.amazonaws.com/?x=1", false],
      ["default_profile", "prod", true],
      ["default_profile", "", true],
      ["default_profile", "prod db", false],
    ];
    // THEN each value is accepted or refused as the table says
    expect(table.map(([name, value]) => [name, value, accepts(name, value)])).toEqual(table);
  });

  it("has a body valid against GitLab's CI schema, with the hidden jobs the contract names", () => {
    // GIVEN the body document
    // THEN the schema accepts it
    expect(validate(body)).toEqual([]);
    // AND the hidden job named by the job input declares the ID token, the variables from the inputs and
    // runs the script first
    const job = body["$[[ inputs.job ]]"] as Record<string, unknown>;
    expect(job.id_tokens).toEqual({ AWS_ID_TOKEN: { aud: "$[[ inputs.aud ]]" } });
    expect(job.variables).toEqual({
      AWS_CREDENTIALS_JOB: "$[[ inputs.job ]]",
      AWS_CREDENTIALS_ROLE_ARN: "$[[ inputs.role_arn ]]",
      AWS_CREDENTIALS_REGION: "$[[ inputs.region ]]",
      AWS_CREDENTIALS_DURATION_SECONDS: "$[[ inputs.duration_seconds ]]",
      AWS_CREDENTIALS_SESSION_NAME: "$[[ inputs.session_name ]]",
      AWS_CREDENTIALS_SESSION_POLICY: { value: "$[[ inputs.session_policy ]]", expand: false },
      AWS_CREDENTIALS_SESSION_POLICY_ARNS: "$[[ inputs.session_policy_arns ]] ",
      AWS_CREDENTIALS_ALLOWED_ACCOUNT_IDS: "$[[ inputs.allowed_account_ids ]] ",
      AWS_CREDENTIALS_MASK_ACCOUNT_ID: "$[[ inputs.mask_account_id ]]",
      AWS_CREDENTIALS_MODE: "$[[ inputs.mode ]]",
      AWS_CREDENTIALS_PROFILES: "$[[ inputs.profiles ]] ",
      AWS_CREDENTIALS_DEFAULT_PROFILE: "$[[ inputs.default_profile ]]",
      AWS_CREDENTIALS_STS_ENDPOINT: "$[[ inputs.sts_endpoint ]]",
    });
    expect(job.before_script).toEqual([[".aws-credentials-script", "script"]]);
    // AND .aws-credentials-script holds the one POSIX sh script
    const script = (body[".aws-credentials-script"] as { script: string[] }).script;
    expect(script).toHaveLength(1);
    expect(script[0]).toContain("_awscred_main");
  });

  it("keeps the script free of tracing and of bashisms the POSIX shells lack", () => {
    // GIVEN the script
    const script = (body[".aws-credentials-script"] as { script: string[] }).script[0]!;
    // THEN its first command switches tracing off, and it turns it on only to restore the job's set -x
    const commands = script.split("\n").filter((l) => l.trim() !== "" && !l.trim().startsWith("#"));
    expect(commands[0]).toMatch(/^case \$- in \*x\*\) set \+x; _awscred_xtrace=on ;;/);
    expect(script.match(/set -[a-z]*x/g)).toEqual(["set -x"]);
    expect(script).toMatch(/if \[ -n "\$_awscred_xtrace" \]; then unset _awscred_xtrace; set -x;/);
    // AND it never hides failures in export $(...), and uses no bash-only syntax
    expect(script).not.toMatch(/export [A-Z_]+=?\$\(/);
    expect(script).not.toMatch(
      /\[\[ |<<<|\$RANDOM|\bfunction \w+ *\{|\bfunction _awscred|\blocal\b|\$\{[A-Za-z_]+\/\//,
    );
  });

  it("is accepted by dash as POSIX sh (sh -n)", () => {
    // GIVEN the script WHEN dash parses it without running it THEN there is no syntax error
    const script = (body[".aws-credentials-script"] as { script: string[] }).script[0]!;
    const shell = ["/bin/dash", "/usr/bin/dash", "/bin/sh"].find(
      (s) => spawnSync(s, ["-c", "true"]).status === 0,
    )!;
    const result = spawnSync(shell, ["-n"], { input: script, encoding: "utf8" });
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
  });
});

describe("consumer fixture pipeline", () => {
  const validate = validator();

  it("is valid against GitLab's CI schema", () => {
    // GIVEN the fixture WHEN validated THEN there are no errors
    const [pipeline] = documents(consumerFixture);
    expect(validate(pipeline)).toEqual([]);
  });

  it("would be rejected if it were not (the validator is not a no-op)", () => {
    // GIVEN a pipeline with a job whose id_tokens lack aud and whose when is unknown
    const broken = { job: { script: ["true"], when: "sometimes", id_tokens: { AWS_ID_TOKEN: {} } } };
    // THEN the schema reports errors
    expect(validate(broken).length).toBeGreaterThan(0);
  });
});
