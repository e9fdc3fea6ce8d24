/**
 * TEST SUPPORT ONLY: the component's script scenarios that run under every shell, declared once for a
 * list of shells. The e2e tier declares them under dash (test/e2e/aws-credentials-shells.test.ts); the
 * slow tier under bash and BusyBox sh (test/slow/aws-credentials-shells.test.ts). Same bodies, one copy.
 *
 *   const h = useShellHarness();          // the STS stand-in (the example, synthesized) and the shells
 *   describeModes(["dash"]);              // exports, web-identity, profiles with the real AWS CLI
 *   describeHardening(["dash"]);          // xtrace, clean-up, token directories, STS endpoints
 */
import { mkdirSync, readdirSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import {
  expectNoSecrets as expectNoSecretsIn,
  missingPrerequisites,
  PRODUCTION_ROLE,
  PRODUCTION_SESSION,
  STAGING_ROLE,
  STAGING_SESSION,
} from "./ci-local";
import { AWS_CLI, ComponentShells, stsRuleSetDataPath, type ShellName } from "./component-shell";
import { exampleLock, synthesizedExample } from "./example";
import { StsStandIn } from "./sts-stand-in";

export const STAGING = `${STAGING_SESSION}gitlab-7-8-9`;
export const PRODUCTION = `${PRODUCTION_SESSION}gitlab-7-8-9`;
export const MAIN = "project_path:acme/web:ref_type:branch:ref:main";
export const PROFILES = JSON.stringify([
  { name: "staging", role_arn: STAGING_ROLE },
  { name: "production", role_arn: PRODUCTION_ROLE, region: "eu-central-1" },
]);

let sts: StsStandIn;
let shells: ComponentShells;

/** What the scenarios share, filled in by useShellHarness's beforeAll. */
export interface ShellHarness {
  readonly sts: StsStandIn;
  readonly shells: ComponentShells;
}

/**
 * Registers the hooks (in the calling file or describe): an STS stand-in for the example (its copy in
 * test/fixtures, synthesized: never the team's terraform/), the shells, and a clean slate before each test.
 */
export function useShellHarness(): ShellHarness {
  beforeAll(async () => {
    const missing = missingPrerequisites();
    if (missing.length > 0) throw new Error(`the component shell tests need: ${missing.join(", ")}`);
    sts = await StsStandIn.start((await synthesizedExample()).dir, exampleLock());
    shells = new ComponentShells();
  });
  afterAll(async () => {
    await sts?.close();
    shells?.cleanup();
  });
  beforeEach(() => {
    sts.calls.length = 0;
    sts.clearInjectedFailures();
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

/** Nothing secret that this run handed out appears in `log`. */
export const expectNoSecrets = (log: string, token: string): void =>
  expectNoSecretsIn(log, token, sts.issued);

/**
 * A fake AWS CLI (an executable named aws, in a directory of `shellsOf`) that runs `check`, then answers
 * assume-role-with-web-identity as STS does with credentials of `assumedRoleArn` (tab-separated, as the
 * component's --query asks): for tests where the CLI is incidental. The real one runs in describeModes.
 */
export function fakeStsCli(shellsOf: ComponentShells, assumedRoleArn: string, check = ""): string {
  const answer = `printf 'ASIAFAKE\\tsecret\\tsession\\t2030-01-01T00:00:00Z\\t%s\\n' '${assumedRoleArn}'`;
  return join(shellsOf.fakeBin({ aws: `${check}\n${answer}` }), "aws");
}

/** The stand-in as the component's STS endpoint, and a region. */
export const stsEnv = (): Record<string, string> => ({
  AWS_CREDENTIALS_STS_ENDPOINT: sts.url,
  AWS_CREDENTIALS_REGION: "eu-west-1",
});

/** exports, web-identity and profiles with the real AWS CLI, under each of `shellNames`. */
export function describeModes(shellNames: readonly ShellName[]): void {
  describe.each(shellNames)("every mode under %s", (shell: ShellName) => {
    it("exports: the next command runs as the role", async () => {
      // GIVEN a token of acme/web main (allowed by the production role)
      const token = sts.mintToken({ sub: MAIN });
      // WHEN the script runs in exports mode, then the job calls the AWS CLI
      const result = await shells.run(shell, {
        env: { ...stsEnv(), AWS_ID_TOKEN: token, AWS_CREDENTIALS_ROLE_ARN: PRODUCTION_ROLE },
        after: `echo "caller=$(${AWS_CLI} sts get-caller-identity --endpoint-url "$AWS_CREDENTIALS_STS_ENDPOINT" --query Arn --output text)"`,
      });
      // THEN the CLI is the assumed role and nothing secret was printed
      expect(result.log).toContain(`caller=${PRODUCTION}`);
      expect(result.status).toBe(0);
      expectNoSecrets(result.log, token);
    });

    it("web-identity: the AWS CLI assumes the role itself from the exported variables", async () => {
      // GIVEN an allowed token, and the CLI's own STS calls routed to the stand-in
      const token = sts.mintToken({ sub: MAIN });
      const dataPath = stsRuleSetDataPath(shells.tempDir("aws-data-"), sts.url);
      const result = await shells.run(shell, {
        env: {
          ...stsEnv(),
          AWS_ID_TOKEN: token,
          AWS_CREDENTIALS_ROLE_ARN: STAGING_ROLE,
          AWS_CREDENTIALS_MODE: "web-identity",
          AWS_DATA_PATH: dataPath,
        },
        after: `echo "caller=$(${AWS_CLI} sts get-caller-identity --query Arn --output text) file_mode=$(stat -c %a "$AWS_WEB_IDENTITY_TOKEN_FILE")"`,
      });
      // THEN the CLI assumed the role with the private token file, and nothing secret was printed
      expect(result.log).toContain(`caller=${STAGING} file_mode=600`);
      expect(result.status).toBe(0);
      expect(sts.assumeCalls().map((c) => c.outcome)).toEqual(["Success"]);
      expectNoSecrets(result.log, token);
    });

    it("profiles: one private config file, and the AWS CLI assumes each profile's role", async () => {
      // GIVEN an allowed token and two profiles (staging, production in its own region), default production
      const token = sts.mintToken({ sub: MAIN });
      const dataPath = stsRuleSetDataPath(shells.tempDir("aws-data-"), sts.url);
      const result = await shells.run(shell, {
        env: {
          ...stsEnv(),
          AWS_ID_TOKEN: token,
          AWS_CREDENTIALS_MODE: "profiles",
          AWS_CREDENTIALS_PROFILES: PROFILES,
          AWS_CREDENTIALS_DEFAULT_PROFILE: "production",
          AWS_DATA_PATH: dataPath,
        },
        // The component's own check assumed each profile's role with the CLI, through the config file the
        // job gets (AWS_CONFIG_FILE); the job's one call takes the default profile from AWS_PROFILE.
        after: [
          `echo "default=$(${AWS_CLI} sts get-caller-identity --query Arn --output text) profile=$AWS_PROFILE"`,
          `echo "modes=$(stat -c %a "$AWS_CONFIG_FILE")/$(stat -c %a "$(dirname "$AWS_CONFIG_FILE")") config=$AWS_CONFIG_FILE"`,
        ].join("\n"),
      });
      expect(result.status).toBe(0);
      // THEN each profile is its role, the default is AWS_PROFILE, the config private and outside the checkout
      expect(result.log).toContain(`profile staging (hop 1): verified, ${STAGING}`);
      expect(result.log).toContain(`profile production (hop 1): verified, ${PRODUCTION}`);
      expect(result.log).toContain(`default=${PRODUCTION} profile=production`);
      expect(result.log).toMatch(/modes=600\/700 config=\/\S+\/project\.tmp\/aws-credentials\.\w+\/config/);
      expectNoSecrets(result.log, token);
      // Three starts of the Python AWS CLI (two for the hop check, one by the job): ~0.4 s each on an idle
      // machine, over 10 s each at load 11 (npm run test:load), beyond the file's 60 s.
    }, 180_000);
  });
}

/** xtrace, clean-up, token directories and STS endpoints, under each of `shellNames`. */
export function describeHardening(shellNames: readonly ShellName[]): void {
  describe.each(shellNames)("hardening under %s", (shell: ShellName) => {
    it("switches xtrace off around the token and keys, and back on after", async () => {
      // GIVEN a job that traces (set -x) and an allowed token
      const token = sts.mintToken({ sub: MAIN });
      // WHEN the script runs in exports mode, and in web-identity mode
      const exports = await shells.run(shell, {
        before: "set -x\n: traced-before",
        after: ": traced-after",
        env: { ...stsEnv(), AWS_ID_TOKEN: token, AWS_CREDENTIALS_ROLE_ARN: PRODUCTION_ROLE },
      });
      const webIdentity = await shells.run(shell, {
        before: "set -x",
        after: ': traced-after "$AWS_ROLE_ARN"',
        env: {
          ...stsEnv(),
          AWS_ID_TOKEN: token,
          AWS_CREDENTIALS_ROLE_ARN: PRODUCTION_ROLE,
          AWS_CREDENTIALS_MODE: "web-identity",
        },
      });
      // THEN tracing was on before and after the script, and neither the token nor the keys were printed
      expect(exports.status).toBe(0);
      expect(exports.stderr).toMatch(/\+ : traced-before/);
      expect(exports.stderr).toMatch(/\+ : traced-after/);
      expect(sts.issued.length).toBeGreaterThan(0);
      expectNoSecrets(exports.log, token);
      expect(webIdentity.status).toBe(0);
      expect(webIdentity.stderr).toMatch(/\+ : traced-after arn:aws:iam::111111111111/);
      expectNoSecrets(webIdentity.log, token);
    });

    it("removes its private directory on every way out, and gives the job its own EXIT trap back", async () => {
      // GIVEN a token directory to watch, and fake CLIs (the clean-up is the point here, not the CLI;
      // the real one runs in every mode above)
      const tokenDir = shells.tempDir("token-dir-");
      const env = {
        ...stsEnv(),
        AWS_CREDENTIALS_TOKEN_DIR: tokenDir,
        AWS_CREDENTIALS_ROLE_ARN: PRODUCTION_ROLE,
      };
      // Only an executable named aws passes for the AWS CLI: each fake is one, in its own directory.
      const fakeCli = (body: string): string => join(shells.fakeBin({ aws: body }), "aws");
      // A CLI that answers as STS does, while the token file exists (it fails if it does not).
      const workingCli = fakeStsCli(
        shells,
        PRODUCTION,
        'ls "$AWSCRED_TEST_DIR"/aws-credentials.*/web-identity-token >/dev/null || exit 9',
      );
      // A CLI that answers as STS does when the trust policy denies the token.
      const deniedCli = fakeCli(
        "echo 'An error occurred (AccessDenied) when calling the AssumeRoleWithWebIdentity operation: Not authorized to perform sts:AssumeRoleWithWebIdentity' >&2; exit 254",
      );
      // A CLI that is killed with the job (the runner cancels it) while the token file exists.
      const killedCli = fakeCli(
        'ls "$AWSCRED_TEST_DIR"/aws-credentials.*/web-identity-token >/dev/null && kill -TERM "$AWSCRED_TEST_SHELL_PID"; sleep 1',
      );
      // A CLI that answers with something that is not credentials.
      const garbageCli = fakeCli("echo garbage");
      const token = sts.mintToken({ sub: MAIN });
      const jobTrap = "trap 'echo JOB-EXIT-TRAP' EXIT";

      // WHEN credentials are obtained THEN nothing is left, and the job's EXIT trap still runs at the end
      const success = await shells.run(shell, {
        before: jobTrap,
        env: { ...env, AWS_ID_TOKEN: token, AWS_CREDENTIALS_AWS_CLI: workingCli, AWSCRED_TEST_DIR: tokenDir },
        after: 'echo "keys=${AWS_ACCESS_KEY_ID:+yes}"',
      });
      expect(success.stdout).toContain("keys=yes");
      expect(success.status).toBe(0);
      expect(success.stdout).toContain("JOB-EXIT-TRAP");
      expect(success.stderr).not.toMatch(/not found|_awscred/);
      expect(ComponentShells.leftIn(tokenDir)).toEqual([]);

      // WHEN STS denies the role (a tag token) THEN exit 1, nothing after it runs, the diagnosis names
      // the token's sub, and nothing is left
      const denied = await shells.run(shell, {
        env: {
          ...env,
          AWS_ID_TOKEN: sts.mintToken({ sub: "project_path:acme/web:ref_type:tag:ref:v1" }),
          AWS_CREDENTIALS_AWS_CLI: deniedCli,
        },
        after: "echo AFTER",
      });
      expect(denied.stderr).toContain("sub:             project_path:acme/web:ref_type:tag:ref:v1");
      expect(denied.status).toBe(1);
      expect(denied.stdout).not.toContain("AFTER");
      expect(ComponentShells.leftIn(tokenDir)).toEqual([]);

      // WHEN the CLI's output is not credentials THEN exit 1 and nothing left
      const garbage = await shells.run(shell, {
        env: { ...env, AWS_ID_TOKEN: token, AWS_CREDENTIALS_AWS_CLI: garbageCli },
      });
      expect(garbage.stderr).toContain("unexpected output");
      expect(garbage.status).toBe(1);
      expect(ComponentShells.leftIn(tokenDir)).toEqual([]);

      // WHEN the job is terminated (SIGTERM) while the token file exists THEN exit 143 and nothing left
      const killed = await shells.run(shell, {
        before: "AWSCRED_TEST_SHELL_PID=$$; export AWSCRED_TEST_SHELL_PID",
        env: { ...env, AWS_ID_TOKEN: token, AWS_CREDENTIALS_AWS_CLI: killedCli, AWSCRED_TEST_DIR: tokenDir },
        after: "echo AFTER",
      });
      expect(killed.status).toBe(143);
      expect(killed.stdout).not.toContain("AFTER");
      expect(ComponentShells.leftIn(tokenDir)).toEqual([]);
    });

    it("keeps token directories absolute, normalised and outside the checkout", async () => {
      // GIVEN a checkout, a symlink into it, and a symlink to it used as CI_PROJECT_DIR
      const base = shells.tempDir("token-dirs-");
      const project = join(base, "project");
      mkdirSync(join(project, "sub"), { recursive: true });
      symlinkSync(join(project, "sub"), join(base, "link-into-checkout"));
      symlinkSync(project, join(base, "project-link"));
      const token = sts.mintToken({ sub: MAIN });
      const run = (env: Record<string, string>) =>
        shells.run(shell, {
          env: {
            AWS_ID_TOKEN: token,
            AWS_CREDENTIALS_ROLE_ARN: STAGING_ROLE,
            AWS_CREDENTIALS_MODE: "web-identity",
            CI_PROJECT_DIR: project,
            ...env,
          },
          after: 'echo "file=$AWS_WEB_IDENTITY_TOKEN_FILE"',
        });

      // THEN a relative directory, a .. path into the checkout, and a symlink into it are refused
      const refused: [Record<string, string>, string][] = [
        [
          { AWS_CREDENTIALS_TOKEN_DIR: "tokens" },
          "AWS_CREDENTIALS_TOKEN_DIR 'tokens' is not an absolute path",
        ],
        [{ AWS_CREDENTIALS_TOKEN_DIR: `${project}/../project/./x` }, "is inside the checkout CI_PROJECT_DIR"],
        [
          { AWS_CREDENTIALS_TOKEN_DIR: `${base}/elsewhere/../project/.cache` },
          "is inside the checkout CI_PROJECT_DIR",
        ],
        [
          { AWS_CREDENTIALS_TOKEN_DIR: join(base, "link-into-checkout", "t") },
          "leads into the checkout CI_PROJECT_DIR (through a symlink)",
        ],
        [
          { AWS_CREDENTIALS_TOKEN_DIR: join(project, "t"), CI_PROJECT_DIR: join(base, "project-link") },
          "leads into the checkout",
        ],
      ];
      for (const [env, message] of refused) {
        const result = await run(env);
        expect(result.stderr).toContain(message);
        expect(result.status).toBe(1);
      }
      expect(readdirSync(project).sort()).toEqual(["sub"]); // nothing written into the checkout
      expect(readdirSync(join(project, "sub"))).toEqual([]);

      // AND a directory given with .. and // is used normalised
      const normalised = await run({ AWS_CREDENTIALS_TOKEN_DIR: `${base}/a/..//tokens/.` });
      expect(normalised.status).toBe(0);
      expect(normalised.stdout).toMatch(
        new RegExp(`file=${base}/tokens/aws-credentials\\.\\w+/web-identity-token\\n`),
      );

      // AND without one, a checkout path with a trailing slash still gets <checkout>.tmp, outside it
      const fallback = await run({ CI_PROJECT_DIR: `${project}/` });
      expect(fallback.status).toBe(0);
      expect(fallback.stdout).toMatch(
        new RegExp(`file=${project}\\.tmp/aws-credentials\\.\\w+/web-identity-token\\n`),
      );
    });

    it("sends the token only over https, or plain http to the loopback", async () => {
      // GIVEN web-identity mode (no network call) and each sts_endpoint in turn
      const token = sts.mintToken({ sub: MAIN });
      const run = (env: Record<string, string>) =>
        shells.run(shell, {
          env: {
            AWS_ID_TOKEN: token,
            AWS_CREDENTIALS_ROLE_ARN: STAGING_ROLE,
            AWS_CREDENTIALS_MODE: "web-identity",
            ...env,
          },
          after: 'echo "sts=${AWS_ENDPOINT_URL_STS:-}"',
        });
      for (const endpoint of [
        "http://sts.example.com",
        "http://127.0.0.1.evil.example:80",
        "http://localhost.evil.example",
        "http://10.0.0.1:4566",
        "ftp://127.0.0.1/",
      ]) {
        // THEN plain http off the loopback, and other schemes, are refused naming the input
        const result = await run({ AWS_CREDENTIALS_STS_ENDPOINT: endpoint });
        expect(result.stderr).toContain(`sts_endpoint '${endpoint}' is`);
        expect(result.status).toBe(1);
      }
      for (const endpoint of [
        "https://sts.eu-west-1.amazonaws.com",
        "http://127.0.0.1:4566",
        "http://127.255.0.9/",
        "http://localhost:4566",
        "http://[::1]:4566",
      ]) {
        // AND https anywhere, and http to 127.0.0.0/8, localhost and [::1], are exported for the SDKs
        const result = await run({ AWS_CREDENTIALS_STS_ENDPOINT: endpoint });
        expect(result.stdout).toContain(`sts=${endpoint}\n`);
        expect(result.status).toBe(0);
      }
    });

    it("refuses an STS endpoint inherited from the runner unless sts_endpoint names it", async () => {
      const token = sts.mintToken({ sub: MAIN });
      const run = (env: Record<string, string>, mode = "exports") =>
        shells.run(shell, {
          env: {
            AWS_ID_TOKEN: token,
            AWS_CREDENTIALS_ROLE_ARN: STAGING_ROLE,
            AWS_CREDENTIALS_MODE: mode,
            ...env,
          },
        });
      // WHEN AWS_ENDPOINT_URL_STS or AWS_ENDPOINT_URL would receive the token THEN the job fails before any call
      const sts1 = await run({ AWS_ENDPOINT_URL_STS: "https://sts.attacker.example" });
      expect(sts1.stderr).toContain(
        "AWS_ENDPOINT_URL_STS='https://sts.attacker.example' is set in the job's environment and would receive the ID token",
      );
      expect(sts1.status).toBe(1);
      const generic = await run({ AWS_ENDPOINT_URL: "https://attacker.example" }, "web-identity");
      expect(generic.stderr).toContain("AWS_ENDPOINT_URL='https://attacker.example' is set");
      expect(generic.status).toBe(1);
      const other = await run({
        AWS_ENDPOINT_URL_STS: "https://sts.attacker.example",
        AWS_CREDENTIALS_STS_ENDPOINT: sts.url,
      });
      expect(other.status).toBe(1);
      expect(sts.calls).toHaveLength(0);
      // WHEN sts_endpoint names the endpoint THEN it is used; a general AWS_ENDPOINT_URL (e.g. LocalStack) is fine then
      const named = await run({
        AWS_ENDPOINT_URL_STS: sts.url,
        AWS_ENDPOINT_URL: "https://localstack.example",
        AWS_CREDENTIALS_STS_ENDPOINT: sts.url,
        AWS_CREDENTIALS_ROLE_ARN: PRODUCTION_ROLE,
      });
      expect(named.stderr).toContain("assumed arn:aws:iam::111111111111:role/gitlab/gitlab-deploy-web");
      expect(named.status).toBe(0);
    });
  });
}
