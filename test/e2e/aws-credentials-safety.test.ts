/**
 * The component's script (2.0) under hostile or careless job settings, run directly under dash, bash and
 * BusyBox sh with the real AWS CLI and the STS stand-in: no silent region, nothing injected into a file
 * or redirected, only an `aws` executable, session policies that narrow the credentials, allowed
 * accounts, the account and expiry as outputs, and the sts.amazonaws.com audience end to end.
 * Refusals start no AWS CLI, so every shell runs all of them; the cases that call STS run once per shell.
 */
import { runSimulation } from "@cloud-copilot/iam-simulate";
import { readFileSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { expectNoSecrets, missingPrerequisites, PRODUCTION_ROLE, STAGING_ROLE } from "../support/ci-local";
import { ASSETS_BUCKET, startComponentStsStandIn } from "../support/component-fixture";
import { AWS_CLI, ComponentShells, SHELLS, type ShellName } from "../support/component-shell";
import type { StsStandIn } from "../support/sts-stand-in";

const MAIN = "project_path:acme/web:ref_type:branch:ref:main";
const FEATURE = "project_path:acme/web:ref_type:branch:ref:feature/x";

jest.setTimeout(60_000);

let sts: StsStandIn;
let closeSts: () => Promise<void>;
let shells: ComponentShells;
/** A server that must never be called: every redirect the tests try points at it. */
let trap: Server;
let trapUrl: string;
const trapped: string[] = [];

beforeAll(async () => {
  const missing = missingPrerequisites();
  if (missing.length > 0) throw new Error(`the component safety tests need: ${missing.join(", ")}`);
  ({ sts, close: closeSts } = await startComponentStsStandIn());
  shells = new ComponentShells();
  trap = createServer((req, res) => {
    trapped.push(`${req.method} ${req.url}`);
    res.writeHead(500).end();
  });
  await new Promise<void>((resolve) => trap.listen(0, "127.0.0.1", resolve));
  trapUrl = `http://127.0.0.1:${(trap.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await closeSts?.();
  await new Promise((resolve) => trap?.close(resolve));
  shells?.cleanup();
});

beforeEach(() => {
  sts.calls.length = 0;
  trapped.length = 0;
});

/** An inherited AWS config file that sends every call, STS's too, to the trap. */
function redirectingConfig(): string {
  const file = join(shells.tempDir("inherited-aws-"), "config");
  writeFileSync(
    file,
    `[default]\nendpoint_url = ${trapUrl}\n\n[profile evil]\nendpoint_url = ${trapUrl}\nservices = evil\n\n` +
      `[services evil]\nsts =\n  endpoint_url = ${trapUrl}\n`,
  );
  return file;
}

const base = (token: string): Record<string, string> => ({
  AWS_ID_TOKEN: token,
  AWS_CREDENTIALS_STS_ENDPOINT: sts.url,
  AWS_CREDENTIALS_REGION: "eu-west-1",
  AWS_CREDENTIALS_ROLE_ARN: STAGING_ROLE,
});

const PROFILES = JSON.stringify([{ name: "staging", role_arn: STAGING_ROLE }]);
const NEWLINE_REGION = `eu-west-1\nendpoint_url = http://127.0.0.1:1/`;

/** [what, env over base(), what the message says]. Each must fail before any file or call. */
const REFUSED: [string, Record<string, string>, string][] = [
  ["no region anywhere", { AWS_CREDENTIALS_REGION: "" }, "no region: set the component's region input"],
  [
    "a region input with a newline (profiles)",
    {
      AWS_CREDENTIALS_MODE: "profiles",
      AWS_CREDENTIALS_PROFILES: PROFILES,
      AWS_CREDENTIALS_REGION: NEWLINE_REGION,
    },
    "the region input",
  ],
  [
    "the job's AWS_REGION with a newline (profiles, no input)",
    {
      AWS_CREDENTIALS_MODE: "profiles",
      AWS_CREDENTIALS_PROFILES: PROFILES,
      AWS_CREDENTIALS_REGION: "",
      AWS_REGION: NEWLINE_REGION,
    },
    "the job's AWS_REGION",
  ],
  [
    "the job's AWS_DEFAULT_REGION with a space",
    { AWS_CREDENTIALS_REGION: "", AWS_DEFAULT_REGION: "eu-west-1 x" },
    "AWS_DEFAULT_REGION",
  ],
  ["a region with a carriage return", { AWS_CREDENTIALS_REGION: "eu-west-1\r" }, "not an AWS region"],
  ...[
    "http://127.0.0.1:x@evil.example/",
    "http://127.0.0.1@evil.example/",
    "https://sts.amazonaws.com@evil.example/",
    "https://sts.amazonaws.com:443@evil.example/",
    "http://localhost.evil.example/",
    "http://127.0.0.1.evil.example/",
    "http://127.0.0.256/",
    "http://0x7f.0.0.1/",
    "http://[::1]@evil.example/",
    "https://evil.example\\@sts.amazonaws.com/",
    "https://sts.amazonaws.com/?redirect=https://evil.example",
    "https://sts.amazonaws.com/#x",
    "https://sts.amazonaws.com/\nhttps://evil.example/",
    "https://sts.amazon aws.com/",
    "https://%65vil.example/",
    "ftp://sts.amazonaws.com/",
  ].map((url): [string, Record<string, string>, string] => [
    `sts_endpoint ${JSON.stringify(url)}`,
    { AWS_CREDENTIALS_STS_ENDPOINT: url },
    "sts_endpoint",
  ]),
  ...["git", "/usr/bin/git", "aws --endpoint-url=http://evil.example", "/tmp/aws;id", "./aws", "aws\n"].map(
    (cli): [string, Record<string, string>, string] => [
      `AWS_CREDENTIALS_AWS_CLI ${JSON.stringify(cli)}`,
      { AWS_CREDENTIALS_AWS_CLI: cli },
      "AWS_CREDENTIALS_AWS_CLI must name the AWS CLI",
    ],
  ),
  [
    "a default_profile with a newline",
    {
      AWS_CREDENTIALS_MODE: "profiles",
      AWS_CREDENTIALS_PROFILES: PROFILES,
      AWS_CREDENTIALS_DEFAULT_PROFILE: "staging\nx",
    },
    "default_profile",
  ],
  [
    "a session policy that is not JSON",
    { AWS_CREDENTIALS_SESSION_POLICY: "{Version: 2012}" },
    "session_policy is not a JSON object",
  ],
  [
    "a session policy with a trailing comma",
    { AWS_CREDENTIALS_SESSION_POLICY: '{"Version": "2012-10-17",}' },
    "not a JSON object",
  ],
  [
    "a session policy starting with file://",
    { AWS_CREDENTIALS_SESSION_POLICY: "file:///etc/passwd" },
    "session_policy is not a JSON object",
  ],
  [
    "11 managed session policies",
    {
      AWS_CREDENTIALS_SESSION_POLICY_ARNS: JSON.stringify(
        Array.from({ length: 11 }, (_, i) => `arn:aws:iam::aws:policy/P${i}`),
      ),
    },
    "session_policy_arns has 11 ARNs; STS takes at most 10",
  ],
  [
    "a managed session policy ARN with a newline",
    { AWS_CREDENTIALS_SESSION_POLICY_ARNS: '["arn:aws:iam::aws:policy/A\nB"]' },
    "is not an IAM policy ARN",
  ],
  [
    "a session policy in mode web-identity (an SDK could not pass it)",
    { AWS_CREDENTIALS_MODE: "web-identity", AWS_CREDENTIALS_SESSION_POLICY: '{"Version": "2012-10-17"}' },
    "need mode exports",
  ],
  [
    "an account ID that is not 12 digits",
    { AWS_CREDENTIALS_ALLOWED_ACCOUNT_IDS: '["12345"]' },
    "is not a 12-digit",
  ],
  [
    "a role in an account that is not allowed (web-identity: known before any call)",
    { AWS_CREDENTIALS_MODE: "web-identity", AWS_CREDENTIALS_ALLOWED_ACCOUNT_IDS: '["111111111111"]' },
    "is in account 222222222222, which is not one of allowed_account_ids",
  ],
  [
    "a profile in an account that is not allowed",
    {
      AWS_CREDENTIALS_MODE: "profiles",
      AWS_CREDENTIALS_PROFILES: PROFILES,
      AWS_CREDENTIALS_ALLOWED_ACCOUNT_IDS: "111111111111",
    },
    "which is not one of allowed_account_ids",
  ],
  ["a token that is not base64url", { AWS_ID_TOKEN: "a.b.c\nd" }, "AWS_ID_TOKEN is not a JWT"],
];

describe.each(SHELLS)("refused before anything is written or sent, under %s", (shell: ShellName) => {
  it.each(REFUSED)("%s", async (_what, env, message) => {
    // GIVEN a job whose settings carry the value; WHEN the script runs
    const token = sts.mintToken({ sub: MAIN });
    const result = await shells.run(shell, {
      env: { ...base(token), ...env },
      after: 'echo "AFTER ${AWS_ACCESS_KEY_ID:+keys}${AWS_CONFIG_FILE:+config}${AWS_ROLE_ARN:+role}"',
    });
    // THEN it stops the job, saying what is wrong, with nothing exported, written or sent
    expect(result.stderr).toContain(message);
    expect(result.status).toBe(1);
    expect(result.stdout).not.toContain("AFTER");
    expect(result.log).not.toMatch(/^endpoint_url = /m);
    expect(sts.calls).toEqual([]);
    expect(trapped).toEqual([]);
    expectNoSecrets(result.log, token, sts.issued);
  });

  it("refuses an inherited AWS config that would redirect the SDK's STS call (web-identity, profiles)", async () => {
    const token = sts.mintToken({ sub: MAIN });
    for (const mode of ["web-identity", "profiles"]) {
      const result = await shells.run(shell, {
        env: {
          ...base(token),
          AWS_CREDENTIALS_MODE: mode,
          AWS_CREDENTIALS_PROFILES: PROFILES,
          AWS_CONFIG_FILE: redirectingConfig(),
        },
      });
      expect(result.stderr).toContain("sets endpoint_url or services: the SDK would send the ID token there");
      expect(result.status).toBe(1);
    }
    expect(trapped).toEqual([]);
  });
});

describe.each(SHELLS)("no effect on the STS call, under %s", (shell: ShellName) => {
  it("an inherited config, credentials file and AWS_PROFILE that redirect: the token still reaches only STS", async () => {
    // GIVEN a job that inherits a config sending every endpoint to the trap, and selects its profile
    const token = sts.mintToken({ sub: MAIN });
    const config = redirectingConfig();
    const result = await shells.run(shell, {
      env: {
        ...base(token),
        AWS_CONFIG_FILE: config,
        AWS_SHARED_CREDENTIALS_FILE: config,
        // A profile the inherited config does not even have: a CLI that read the job's AWS_PROFILE would stop.
        AWS_PROFILE: "ghost",
        AWS_DEFAULT_PROFILE: "evil",
        AWS_DATA_PATH: shells.tempDir("aws-data-"),
      },
      after: 'echo "keys=${AWS_ACCESS_KEY_ID:+yes} account=$AWS_CREDENTIALS_ACCOUNT_ID"',
    });
    // THEN the component assumed the role at the stand-in, and the trap saw nothing
    expect(result.stdout).toContain("keys=yes account=222222222222");
    expect(result.status).toBe(0);
    expect(sts.assumeCalls().map((c) => c.outcome)).toEqual(["Success"]);
    expect(trapped).toEqual([]);
    expectNoSecrets(result.log, token, sts.issued);
  });

  it("keeps the job's own AWS_REGION when the region input is empty", async () => {
    const token = sts.mintToken({ sub: MAIN });
    const result = await shells.run(shell, {
      env: { ...base(token), AWS_CREDENTIALS_REGION: "", AWS_REGION: "eu-central-1" },
      after: 'echo "region=$AWS_REGION default=$AWS_DEFAULT_REGION"',
    });
    expect(result.stdout).toContain("region=eu-central-1 default=eu-central-1");
    expect(result.status).toBe(0);
  });
});

describe("region, account and expiry (dash)", () => {
  it("says so when the region input replaces a different region the job set", async () => {
    const token = sts.mintToken({ sub: MAIN });
    const result = await shells.run("dash", {
      env: { ...base(token), AWS_REGION: "eu-central-1" },
      after: 'echo "region=$AWS_REGION"',
    });
    expect(result.stderr).toContain(
      "NOTE: the job's AWS_REGION 'eu-central-1' is replaced by eu-west-1 from the region input",
    );
    expect(result.stdout).toContain("region=eu-west-1");
  });

  it("exports the account ID and the expiry, and can mask the account in its own log", async () => {
    const token = sts.mintToken({ sub: MAIN });
    const result = await shells.run("dash", {
      env: { ...base(token), AWS_CREDENTIALS_MASK_ACCOUNT_ID: "true" },
      after:
        'echo "account=$AWS_CREDENTIALS_ACCOUNT_ID" | tr 0-9 a-j; echo "expires=$AWS_CREDENTIALS_EXPIRATION"',
    });
    expect(result.status).toBe(0);
    expect(result.stdout).toContain("account=cccccccccccc"); // 222222222222, past the log's masking
    expect(result.stdout).toMatch(/expires=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|\+00:00)\n/);
    expect(result.stderr).toContain("assumed arn:aws:iam::************:role/gitlab/gitlab-deploy-web");
    expect(result.stderr).not.toContain("222222222222");
  });

  it("allowed_account_ids: a role in another account is refused before STS is called", async () => {
    // GIVEN the staging role (222222222222) and only production allowed
    const token = sts.mintToken({ sub: MAIN });
    const result = await shells.run("dash", {
      env: { ...base(token), AWS_CREDENTIALS_ALLOWED_ACCOUNT_IDS: '["111111111111"]' },
      after: 'echo "AFTER keys=${AWS_ACCESS_KEY_ID:+yes}"',
    });
    // THEN nothing was asked of STS, nor exported
    expect(result.stderr).toContain(
      "arn:aws:iam::222222222222:role/gitlab/gitlab-deploy-web is in account 222222222222, which is not one of allowed_account_ids ( 111111111111 )",
    );
    expect(result.status).toBe(1);
    expect(result.stdout).not.toContain("AFTER");
    expect(sts.calls).toEqual([]);
  });

  it("allowed_account_ids: credentials STS issued for another account are refused after assuming, before exporting", async () => {
    // GIVEN an endpoint answering with credentials of account 333333333333 for an allowed role
    // (an aws executable that prints what such an answer gives the component)
    const bin = shells.fakeBin({
      aws: `printf 'ASIAFAKE\tsecret\tsession\t2030-01-01T00:00:00Z\tarn:aws:sts::333333333333:assumed-role/r/s\n'`,
    });
    const result = await shells.run("dash", {
      env: {
        ...base(sts.mintToken({ sub: MAIN })),
        AWS_CREDENTIALS_AWS_CLI: join(bin, "aws"),
        AWS_CREDENTIALS_ALLOWED_ACCOUNT_IDS: "222222222222",
      },
      after: 'echo "AFTER keys=${AWS_ACCESS_KEY_ID:+yes}"',
    });
    // THEN the job stops before exporting them
    expect(result.stderr).toContain(
      "is in account 333333333333, which is not one of allowed_account_ids ( 222222222222 )",
    );
    expect(result.status).toBe(1);
    expect(result.stdout).not.toContain("AFTER");
    // AND with that account allowed, the same answer is exported
    const allowed = await shells.run("dash", {
      env: {
        ...base(sts.mintToken({ sub: MAIN })),
        AWS_CREDENTIALS_AWS_CLI: join(bin, "aws"),
        AWS_CREDENTIALS_ALLOWED_ACCOUNT_IDS: "222222222222, 333333333333",
      },
      after: 'echo "AFTER keys=${AWS_ACCESS_KEY_ID:+yes} account=$AWS_CREDENTIALS_ACCOUNT_ID"',
    });
    expect(allowed.stdout).toContain("AFTER keys=yes account=333333333333");
  });
});

describe("session policies (dash)", () => {
  const SESSION_POLICY = {
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Action: "s3:PutObject", Resource: `${ASSETS_BUCKET}/*` }],
  };
  const MANAGED = ["arn:aws:iam::aws:policy/ReadOnlyAccess", "arn:aws:iam::111111111111:policy/gitlab/a,b=c"];

  it("passes the inline and managed session policies to STS, which narrow the role", async () => {
    // GIVEN the production deployer (may put and delete assets) and a session policy allowing put only
    const token = sts.mintToken({ sub: MAIN });
    const result = await shells.run("dash", {
      env: {
        ...base(token),
        AWS_CREDENTIALS_ROLE_ARN: PRODUCTION_ROLE,
        AWS_CREDENTIALS_SESSION_POLICY: JSON.stringify(SESSION_POLICY, null, 2),
        AWS_CREDENTIALS_SESSION_POLICY_ARNS: JSON.stringify(MANAGED),
      },
    });
    expect(result.status).toBe(0);
    expect(result.stderr).toContain("inline session policy, 2 managed session policies");
    // THEN STS received both, as sent
    const [call] = sts.assumeCalls();
    expect(JSON.parse(call!.policy!)).toEqual(SESSION_POLICY);
    expect(call!.policyArns).toEqual(MANAGED);
    // AND the credentials it issued can put objects but not delete them, although the role may
    const issued = sts.issued.at(-1)!;
    const role = sts.stacks.flatMap((s) => s.roles).find((r) => r.inlinePolicies["deploy-assets"])!;
    const decide = async (action: string, sessionPolicy?: unknown): Promise<string> => {
      const result = await runSimulation(
        {
          request: {
            principal: `arn:aws:sts::111111111111:assumed-role/${issued.roleName}/${issued.sessionName}`,
            action,
            resource: { resource: `${ASSETS_BUCKET}/site/index.html`, accountId: "111111111111" },
            contextVariables: {},
          },
          identityPolicies: [{ name: "deploy-assets", policy: role.inlinePolicies["deploy-assets"] }],
          serviceControlPolicies: [],
          resourceControlPolicies: [],
          ...(sessionPolicy === undefined ? {} : { sessionPolicy }),
        },
        {},
      );
      return result.resultType === "error" ? `error: ${JSON.stringify(result.errors)}` : result.overallResult;
    };
    expect(await decide("s3:DeleteObject")).toBe("Allowed");
    expect(await decide("s3:DeleteObject", issued.sessionPolicy)).toBe("ImplicitlyDenied");
    expect(await decide("s3:PutObject", issued.sessionPolicy)).toBe("Allowed");
  });

  it("a policy over STS's 2048 characters is refused before the call", async () => {
    const token = sts.mintToken({ sub: MAIN });
    const policy = `{"Statement": "${"x".repeat(2100)}"}`;
    const result = await shells.run("dash", {
      env: { ...base(token), AWS_CREDENTIALS_SESSION_POLICY: policy },
    });
    expect(result.stderr).toContain(`session_policy has ${policy.length} characters; STS takes at most 2048`);
    expect(sts.calls).toEqual([]);
    expect(result.status).toBe(1);
  });
});

describe("the sts.amazonaws.com audience end to end (dash)", () => {
  it("provider client IDs, trust conditions, the component's token and STS agree", async () => {
    // GIVEN the fixture's stacks, synthesized with the default audience
    for (const stack of sts.stacks) {
      expect(stack.providerAudiences).toEqual(["sts.amazonaws.com"]);
      for (const role of stack.roles) {
        for (const statement of role.trustPolicy.Statement) {
          expect(statement.Condition?.StringEquals?.["gitlab.com:aud"]).toEqual(["sts.amazonaws.com"]);
        }
      }
    }
    // AND the component's default aud input
    const template = readFileSync(join(__dirname, "..", "..", "templates", "aws-credentials.yml"), "utf8");
    expect(template).toMatch(/ {4}aud:\n {6}type: string\n {6}default: sts\.amazonaws\.com\n/);
    // WHEN a token with that aud is exchanged THEN STS accepts it; the old default is refused
    const ok = await shells.run("dash", {
      env: base(sts.mintToken({ sub: FEATURE, aud: "sts.amazonaws.com" })),
    });
    expect(ok.status).toBe(0);
    const old = await shells.run("dash", {
      env: base(sts.mintToken({ sub: FEATURE, aud: "https://gitlab.com" })),
    });
    expect(old.stderr).toContain("InvalidIdentityToken");
    expect(old.status).toBe(1);
  });
});

/** AWS_CLI is the real CLI; the tests above rely on it being found by absolute path. */
test("the real AWS CLI is an absolute path ending in /aws", () => {
  expect(AWS_CLI).toMatch(/^\/.*\/aws$/);
});
