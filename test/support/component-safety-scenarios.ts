/**
 * TEST SUPPORT ONLY: the component's script (2.0) under hostile or careless job settings, declared once
 * for a list of shells: the e2e tier runs them under dash (test/e2e/aws-credentials-safety.test.ts), the
 * slow tier under bash and BusyBox sh (test/slow/aws-credentials-safety.test.ts). Refusals start no AWS
 * CLI; the no-effect cases call STS (the real CLI) once per shell.
 */
import { writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { expectNoSecrets, missingPrerequisites, STAGING_ROLE } from "./ci-local";
import { startComponentStsStandIn } from "./component-fixture";
import { ComponentShells, type ShellName } from "./component-shell";
import type { StsStandIn } from "./sts-stand-in";

export const MAIN = "project_path:acme/web:ref_type:branch:ref:main";
export const FEATURE = "project_path:acme/web:ref_type:branch:ref:feature/x";

let sts: StsStandIn;
let closeSts: () => Promise<void>;
let shells: ComponentShells;
/** A server that must never be called: every redirect the tests try points at it. */
let trap: Server;
let trapUrl: string;
const trapped: string[] = [];

/** What the scenarios share, filled in by useSafetyHarness's beforeAll. */
export interface SafetyHarness {
  readonly sts: StsStandIn;
  readonly shells: ComponentShells;
}

/**
 * Registers the hooks (in the calling file): an STS stand-in for test/support/component-fixture.ts's
 * roles, the shells, and the trap server; a clean slate before each test.
 */
export function useSafetyHarness(): SafetyHarness {
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
  return {
    get sts() {
      return sts;
    },
    get shells() {
      return shells;
    },
  };
}

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

export const base = (token: string): Record<string, string> => ({
  AWS_ID_TOKEN: token,
  AWS_CREDENTIALS_STS_ENDPOINT: sts.url,
  AWS_CREDENTIALS_REGION: "eu-west-1",
  AWS_CREDENTIALS_ROLE_ARN: STAGING_ROLE,
});

const PROFILES = JSON.stringify([{ name: "staging", role_arn: STAGING_ROLE }]);
const NEWLINE_REGION = `eu-west-1\nendpoint_url = http://127.0.0.1:1/`;

/** [what, env over base(), what the message says]. Each must fail before any file or call. */
export const REFUSED: [string, Record<string, string>, string][] = [
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

/** Every refusal (REFUSED) and the inherited redirecting config, under each of `shellNames`. */
export function describeRefusals(shellNames: readonly ShellName[]): void {
  describe.each(shellNames)("refused before anything is written or sent, under %s", (shell: ShellName) => {
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
        expect(result.stderr).toContain(
          "sets endpoint_url or services: the SDK would send the ID token there",
        );
        expect(result.status).toBe(1);
      }
      expect(trapped).toEqual([]);
    });
  });
}

/** What the job inherits that must not change the STS call, under each of `shellNames`. */
export function describeNoEffect(shellNames: readonly ShellName[]): void {
  describe.each(shellNames)("no effect on the STS call, under %s", (shell: ShellName) => {
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
}
