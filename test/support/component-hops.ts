/**
 * TEST SUPPORT ONLY: the component's check of every hop of a role chain (mode profiles, verify_profiles),
 * as scenarios that take a shell, so the e2e tier runs them under dash and the slow tier under the
 * others. The roles: COMPONENT_CONFIG's (synthesized; they trust only the OIDC provider) and AUDIT_ROLE,
 * managed elsewhere, which trusts the staging deployer (component-fixture.ts).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  expectNoSecrets,
  missingPrerequisites,
  PRODUCTION_ROLE,
  STAGING_ROLE,
  STAGING_SESSION,
} from "./ci-local";
import { AUDIT_ROLE, startComponentStsStandIn } from "./component-fixture";
import { ComponentShells, stsRuleSetDataPath, type ShellName } from "./component-shell";
import type { StsStandIn } from "./sts-stand-in";

const MAIN = "project_path:acme/web:ref_type:branch:ref:main";
const FEATURE = "project_path:acme/web:ref_type:branch:ref:feature/x";
const SESSION = "gitlab-7-8-9";

/**
 * staging (hop 1) → audit (hop 2, allowed by its trust policy), then deploy (hop 2, refused); listed
 * root last, so the check's chain order is not the list's.
 */
const CHAIN = [
  { name: "audit", role_arn: AUDIT_ROLE.arn, source_profile: "staging" },
  { name: "deploy", role_arn: PRODUCTION_ROLE, source_profile: "staging" },
  { name: "staging", role_arn: STAGING_ROLE },
];
const BROKEN_AT_HOP_2 = JSON.stringify(CHAIN);
/** prod (hop 1: main and release/* only) → audit (hop 2). */
const PROD_FIRST = JSON.stringify([
  { name: "prod", role_arn: PRODUCTION_ROLE },
  { name: "audit", role_arn: AUDIT_ROLE.arn, source_profile: "prod" },
]);

type HopScenario = (shell: ShellName) => Promise<void>;

/** Registers every scenario under each of `shellNames`, with a stand-in and shells of its own. */
export function describeHopScenarios(shellNames: readonly ShellName[]): void {
  let sts: StsStandIn;
  let closeSts: () => Promise<void>;
  let shells: ComponentShells;
  beforeAll(async () => {
    const missing = missingPrerequisites();
    if (missing.length > 0) throw new Error(`the component hop tests need: ${missing.join(", ")}`);
    ({ sts, close: closeSts } = await startComponentStsStandIn());
    shells = new ComponentShells();
  });
  afterAll(async () => {
    await closeSts?.();
    shells?.cleanup();
  });
  describe.each(shellNames)("mode profiles verifies each hop of its chains, under %s", (shell) => {
    for (const [name, scenario] of Object.entries(hopScenarios(() => ({ sts, shells })))) {
      it(name, () => scenario(shell));
    }
  });
}

/** The scenarios by name; `context` gives the suite's stand-in and shells once they exist. */
function hopScenarios(
  context: () => { sts: StsStandIn; shells: ComponentShells },
): Record<string, HopScenario> {
  /** Runs the script in mode profiles with `env` on top; the CLI's own STS calls reach the stand-in. */
  async function run(
    shell: ShellName,
    env: Record<string, string>,
    { sub = MAIN, after = "" }: { sub?: string; after?: string } = {},
  ) {
    const { sts, shells } = context();
    const tokenDir = shells.tempDir("token-dir-");
    const token = sts.mintToken({ sub });
    const result = await shells.run(shell, {
      env: {
        AWS_ID_TOKEN: token,
        AWS_CREDENTIALS_MODE: "profiles",
        AWS_CREDENTIALS_STS_ENDPOINT: sts.url,
        AWS_CREDENTIALS_TOKEN_DIR: tokenDir,
        AWS_DATA_PATH: stsRuleSetDataPath(shells.tempDir("aws-data-"), sts.url),
        ...env,
      },
      after: `echo "AFTER config=\${AWS_CONFIG_FILE:-none}"\n${after}`,
    });
    if (process.env.E2E_LOGS) console.log(result.log);
    expectNoSecrets(result.log, token, sts.issued);
    return { ...result, tokenDir, token };
  }

  return {
    "a chain broken at hop 2: the assumed ARNs up to it, then the hop, its role, its source profile and STS's error":
      async (shell) => {
        const { sts } = context();
        sts.calls.length = 0;
        // GIVEN staging (hop 1) and, from it, audit (trusts staging) and deploy (trusts only the OIDC provider)
        // WHEN the script runs in mode profiles
        const result = await run(shell, { AWS_CREDENTIALS_PROFILES: BROKEN_AT_HOP_2 });
        // THEN hop 1 and the good hop 2 are logged with the ARN each assumed, in chain order
        const lines = result.stderr.split("\n");
        const verified = lines.filter((l) => l.includes("verified,"));
        expect(verified).toEqual([
          `aws-credentials: profile staging (hop 1): verified, ${STAGING_SESSION}${SESSION}`,
          `aws-credentials: profile audit (hop 2): verified, arn:aws:sts::222222222222:assumed-role/gitlab-audit/${SESSION}`,
        ]);
        // AND the refused hop is named with its role, its source profile and role, and STS's code and message
        expect(result.stderr).toContain(
          `aws-credentials: hop 2, profile deploy: assuming ${PRODUCTION_ROLE} from profile staging (${STAGING_ROLE}) failed: ` +
            `An error occurred (AccessDenied) when calling the AssumeRole operation: User: ${STAGING_SESSION}${SESSION} ` +
            `is not authorized to perform: sts:AssumeRole on resource: ${PRODUCTION_ROLE}`,
        );
        expect(result.stderr).toContain(
          `AccessDenied at hop 2: the trust policy of ${PRODUCTION_ROLE} does not let the source role ${STAGING_ROLE} (profile staging) assume it`,
        );
        expect(result.stderr).toMatch(
          /ERROR: profiles: the role chain breaks at hop 2, profile deploy: could not assume \S+ from profile staging .*\(AccessDenied\)$/m,
        );
        // AND no explain advice (the token was accepted), the job stopped, the token directory is gone
        expect(result.stderr).not.toContain("npm run explain");
        expect(result.stdout).not.toContain("AFTER");
        expect(result.status).toBe(1);
        expect(ComponentShells.leftIn(result.tokenDir)).toEqual([]);
        // AND the stand-in refused deploy for the staging session, by deploy's trust policy
        expect(sts.calls.filter((c) => c.action === "AssumeRole" && c.outcome !== "Success")).toEqual([
          expect.objectContaining({
            roleArn: PRODUCTION_ROLE,
            callerArn: `${STAGING_SESSION}${SESSION}`,
            outcome: "AccessDenied",
          }),
        ]);
      },

    "a chain refused at hop 1: the explain command for the first hop's role, and nothing chained": async (
      shell,
    ) => {
      const { sts } = context();
      sts.calls.length = 0;
      // GIVEN a feature-branch token, which the production role (main and release/*) refuses
      const result = await run(shell, { AWS_CREDENTIALS_PROFILES: PROD_FIRST }, { sub: FEATURE });
      // THEN hop 1 is named with its role, "web identity" and STS's error, then the advice with explain
      expect(result.stderr).toContain(
        `aws-credentials: hop 1, profile prod: assuming ${PRODUCTION_ROLE} from web identity failed: ` +
          "An error occurred (AccessDenied) when calling the AssumeRoleWithWebIdentity operation",
      );
      expect(result.stderr).toContain(`role:            ${PRODUCTION_ROLE}`);
      expect(result.stderr).toContain(
        `npm run explain -- --sub '${FEATURE}' --aud 'sts.amazonaws.com' --role '${PRODUCTION_ROLE}'`,
      );
      expect(result.stderr).toMatch(
        /ERROR: profiles: the role chain breaks at hop 1, profile prod: .*from web identity \(AccessDenied\)$/m,
      );
      expect(result.stderr).not.toContain("verified,");
      expect(result.status).toBe(1);
      expect(ComponentShells.leftIn(result.tokenDir)).toEqual([]);
      // AND nothing went further than hop 1
      expect(sts.calls.map((c) => [c.action, c.outcome])).toEqual([
        ["AssumeRoleWithWebIdentity", "AccessDenied"],
      ]);
    },

    "an STS error quoting the token: shown with the token redacted": async (shell) => {
      const { sts } = context();
      // GIVEN STS answers hop 1 with an error that quotes the token it was sent
      sts.injectFailures("EchoToken", 3);
      try {
        const result = await run(shell, { AWS_CREDENTIALS_PROFILES: PROD_FIRST });
        // THEN the message shows the error with [token] in its place (and expectNoSecrets held)
        expect(result.stderr).toMatch(
          /hop 1, profile prod: .*InvalidIdentityToken.*Could not parse the token \[token\]/,
        );
        expect(result.stderr).toContain("InvalidIdentityToken: AWS could not validate the token");
        expect(result.status).toBe(1);
      } finally {
        sts.clearInjectedFailures();
      }
    },

    "a good chain: one line per profile with its ARN, no credentials cached in HOME, the job goes on": async (
      shell,
    ) => {
      // GIVEN staging and audit chained from it, audit the default profile
      const result = await run(
        shell,
        {
          AWS_CREDENTIALS_PROFILES: JSON.stringify(CHAIN.filter((p) => p.name !== "deploy")),
          AWS_CREDENTIALS_DEFAULT_PROFILE: "audit",
        },
        {
          after:
            'echo "home_aws=[$(ls -A "$HOME/.aws" 2>/dev/null)] left=[$(ls -A "$(dirname "$AWS_CONFIG_FILE")" | tr "\\n" " ")]"',
        },
      );
      // THEN both hops are verified, the job's script ran with the config, and nothing of the check is left
      expect(result.stderr).toContain(`profile staging (hop 1): verified, ${STAGING_SESSION}${SESSION}`);
      expect(result.stderr).toContain(
        `profile audit (hop 2): verified, arn:aws:sts::222222222222:assumed-role/gitlab-audit/${SESSION}`,
      );
      expect(result.status).toBe(0);
      expect(result.stdout).toMatch(/^AFTER config=\/\S+\/config$/m);
      expect(result.stdout).toContain("home_aws=[] left=[config web-identity-token ]");
    },

    "the CLI runs with a private HOME, the job's Python user base and none of the job's keys or profile":
      async (shell) => {
        const { shells } = context();
        // GIVEN a job with its own keys and profile, and a CLI that reports what it was started with
        const cli = join(
          shells.fakeBin({
            aws: [
              'printf "%s\\n" "HOME=$HOME" "PYTHONUSERBASE=$PYTHONUSERBASE" "KEY=${AWS_ACCESS_KEY_ID:-}" "PROFILE=${AWS_PROFILE:-}" "ARGS=$*" >>"$AWSCRED_TEST_SEEN"',
              'echo "arn:aws:sts::222222222222:assumed-role/gitlab-deploy-web/gitlab-7-8-9"',
            ].join("\n"),
          }),
          "aws",
        );
        const seen = join(shells.tempDir("seen-"), "seen");
        const result = await run(shell, {
          AWS_CREDENTIALS_PROFILES: JSON.stringify([{ name: "staging", role_arn: STAGING_ROLE }]),
          AWS_CREDENTIALS_AWS_CLI: cli,
          AWS_ACCESS_KEY_ID: "AKIAJOBSOWNKEY000000",
          AWS_PROFILE: "jobs-own",
          AWSCRED_TEST_SEEN: seen,
        });
        expect(result.status).toBe(0);
        // THEN the CLI saw a HOME inside the token directory, the job's ~/.local, no keys, no AWS_PROFILE
        const lines = readFileSync(seen, "utf8");
        expect(lines).toMatch(new RegExp(`^HOME=${result.tokenDir}/aws-credentials\\.\\w+/verify$`, "m"));
        expect(lines).toMatch(/^PYTHONUSERBASE=\/\S+\/component-home-\w+\/\.local$/m);
        expect(lines).toContain("KEY=\nPROFILE=\n");
        expect(lines).toContain(
          `ARGS=sts get-caller-identity --profile staging --output text --query Arn --endpoint-url ${context().sts.url}`,
        );
      },

    "no AWS CLI in the image: a note, no STS call, the job goes on": async (shell) => {
      const { sts } = context();
      sts.calls.length = 0;
      // GIVEN no AWS CLI (BusyBox: a PATH of applets only, like hashicorp/terraform; else a path that is not there)
      const result = await run(shell, {
        AWS_CREDENTIALS_PROFILES: BROKEN_AT_HOP_2,
        AWS_CREDENTIALS_AWS_CLI: shell === "busybox" ? "aws" : "/opt/no-cli/aws",
      });
      // THEN one note says the profiles were not verified, and the job's script runs
      expect(result.stderr.match(/NOTE: the profiles were not verified: no AWS CLI/g)).toHaveLength(1);
      expect(result.status).toBe(0);
      expect(result.stdout).toContain("AFTER config=/");
      expect(sts.calls).toEqual([]);
    },

    "verify_profiles false: no STS call, no note, the job goes on": async (shell) => {
      const { sts } = context();
      sts.calls.length = 0;
      // GIVEN a chain that would break at hop 2, and verify_profiles false
      const result = await run(
        shell,
        { AWS_CREDENTIALS_PROFILES: BROKEN_AT_HOP_2, AWS_CREDENTIALS_VERIFY_PROFILES: "false" },
        { after: 'echo "profiles=$(grep -c "^\\[profile" "$AWS_CONFIG_FILE")"' },
      );
      // THEN nothing is assumed, and the job's script has the config with every profile
      expect(sts.calls).toEqual([]);
      expect(result.stderr).not.toMatch(/verified|NOTE/);
      expect(result.status).toBe(0);
      expect(result.stdout).toContain("profiles=3");
    },
  };
}
