/**
 * The component's script run directly under dash, bash and BusyBox sh (a PATH of BusyBox applets only),
 * in every mode, with the real AWS CLI and the STS stand-in; and its hardening: xtrace, clean-up on every
 * way out, token directories, STS endpoints, paste-safe explain advice, redaction, backoff and bounds.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  expectNoSecrets as expectNoSecretsIn,
  missingPrerequisites,
  PRODUCTION_ROLE,
  PRODUCTION_SESSION,
  STAGING_ROLE,
  STAGING_SESSION,
} from "../support/ci-local";
import {
  AWS_CLI,
  ComponentShells,
  SHELLS,
  stsRuleSetDataPath,
  type ShellName,
} from "../support/component-shell";
import { StsStandIn } from "../support/sts-stand-in";
import { exampleLock, synthesizedExample } from "../support/example";

const STAGING = `${STAGING_SESSION}gitlab-7-8-9`;
const PRODUCTION = `${PRODUCTION_SESSION}gitlab-7-8-9`;
const MAIN = "project_path:acme/web:ref_type:branch:ref:main";
const PROFILES = JSON.stringify([
  { name: "staging", role_arn: STAGING_ROLE },
  { name: "production", role_arn: PRODUCTION_ROLE, region: "eu-central-1" },
]);

jest.setTimeout(60_000);

let sts: StsStandIn;
let shells: ComponentShells;

beforeAll(async () => {
  const missing = missingPrerequisites();
  if (missing.length > 0) throw new Error(`the component shell tests need: ${missing.join(", ")}`);
  // The example (its copy in test/fixtures), synthesized: never the team's terraform/.
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

/** Nothing secret that this run handed out appears in `log`. */
const expectNoSecrets = (log: string, token: string): void => expectNoSecretsIn(log, token, sts.issued);

const stsEnv = (): Record<string, string> => ({
  AWS_CREDENTIALS_STS_ENDPOINT: sts.url,
  AWS_CREDENTIALS_REGION: "eu-west-1",
});

describe.each(SHELLS)("every mode under %s", (shell: ShellName) => {
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
      after: [
        `echo "staging=$(${AWS_CLI} --profile staging sts get-caller-identity --query Arn --output text)"`,
        `echo "production=$(${AWS_CLI} --profile production sts get-caller-identity --query Arn --output text)"`,
        `echo "default=$(${AWS_CLI} sts get-caller-identity --query Arn --output text) profile=$AWS_PROFILE"`,
        `echo "modes=$(stat -c %a "$AWS_CONFIG_FILE")/$(stat -c %a "$(dirname "$AWS_CONFIG_FILE")") config=$AWS_CONFIG_FILE"`,
      ].join("\n"),
    });
    expect(result.status).toBe(0);
    // THEN each --profile is its role, the default is AWS_PROFILE, the config private and outside the checkout
    expect(result.log).toContain(`staging=${STAGING}`);
    expect(result.log).toContain(`production=${PRODUCTION}`);
    expect(result.log).toContain(`default=${PRODUCTION} profile=production`);
    expect(result.log).toMatch(/modes=600\/700 config=\/\S+\/project\.tmp\/aws-credentials\.\w+\/config/);
    expectNoSecrets(result.log, token);
  });
});

describe("profiles are validated before anything is written", () => {
  const bad: [string, string, string][] = [
    ["not JSON", "prod=arn:aws:iam::111111111111:role/x", "expected a JSON array of profiles"],
    ["an empty list", "[]", "mode profiles needs at least one profile"],
    [
      "a name with a space",
      `[{"name": "prod db", "role_arn": "${STAGING_ROLE}"}]`,
      `profiles[0].name "prod db" is not a valid profile name`,
    ],
    [
      "a name with a bracket",
      `[{"name": "x]\\n[default", "role_arn": "${STAGING_ROLE}"}]`,
      "unsupported escape",
    ],
    [
      "a duplicate name",
      `[{"name": "a", "role_arn": "${STAGING_ROLE}"}, {"name": "a", "role_arn": "${STAGING_ROLE}"}]`,
      `profiles[1].name "a" is used twice`,
    ],
    [
      "an unknown key",
      `[{"name": "a", "role_arn": "${STAGING_ROLE}", "duration": "900"}]`,
      `profiles[0] has an unknown key "duration"`,
    ],
    ["a user ARN", `[{"name": "a", "role_arn": "arn:aws:iam::111111111111:user/a"}]`, "profiles[0].role_arn"],
    [
      "a bad region",
      `[{"name": "a", "role_arn": "${STAGING_ROLE}", "region": "eu-west1"}]`,
      `profiles[0].region "eu-west1" is not an AWS region`,
    ],
    [
      "an unknown source profile",
      `[{"name": "a", "role_arn": "${STAGING_ROLE}", "source_profile": "b"}]`,
      `profiles[0].source_profile "b" is not the name of another profile`,
    ],
    [
      "a loop of source profiles",
      `[{"name": "a", "role_arn": "${STAGING_ROLE}", "source_profile": "b"}, {"name": "b", "role_arn": "${STAGING_ROLE}", "source_profile": "a"}]`,
      "profiles[0].source_profile makes a loop",
    ],
    ["a number as a value", `[{"name": "a", "role_arn": 1}]`, "profiles[0].role_arn must be a string"],
  ];

  it.each(bad)("refuses %s, naming the entry", async (_name, profiles, message) => {
    for (const shell of ["dash", "busybox"] as const) {
      // GIVEN a bad profiles list and a token directory to watch
      const tokenDir = shells.tempDir("token-dir-");
      // WHEN the script runs in profiles mode
      const result = await shells.run(shell, {
        env: {
          AWS_ID_TOKEN: sts.mintToken({ sub: MAIN }),
          AWS_CREDENTIALS_MODE: "profiles",
          AWS_CREDENTIALS_PROFILES: profiles,
          AWS_CREDENTIALS_TOKEN_DIR: tokenDir,
        },
        after: "echo AFTER",
      });
      // THEN it fails with the message, runs nothing after it and wrote nothing
      expect(result.stderr).toContain(message);
      expect(result.status).toBe(1);
      expect(result.stdout).not.toContain("AFTER");
      expect(ComponentShells.leftIn(tokenDir)).toEqual([]);
    }
  });

  it("reads GitLab's rendering of an array input (Ruby hash syntax) like JSON", async () => {
    // GIVEN the profiles as GitLab renders an array input inside a string: {"name" => "a", …}
    const profiles = `[{"name" => "staging", "role_arn" => "${STAGING_ROLE}"}, {"name"=>"audit", "role_arn"=>"${PRODUCTION_ROLE}", "source_profile"=>"staging"}] `;
    // WHEN the script runs
    const result = await shells.run("dash", {
      env: {
        AWS_ID_TOKEN: sts.mintToken({ sub: MAIN }),
        AWS_CREDENTIALS_MODE: "profiles",
        AWS_CREDENTIALS_PROFILES: profiles,
        AWS_CREDENTIALS_REGION: "eu-west-1",
      },
      after: 'cat "$AWS_CONFIG_FILE"',
    });
    // THEN the config file has both profiles, the second chained from the first
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(
      /\[profile staging\]\nrole_arn = arn:aws:iam::222222222222:role\/gitlab\/gitlab-deploy-web\nweb_identity_token_file = \/\S+\/web-identity-token\n/,
    );
    expect(result.stdout).toContain(
      "[profile audit]\nrole_arn = arn:aws:iam::111111111111:role/gitlab/gitlab-deploy-web\nsource_profile = staging\nrole_session_name = gitlab-7-8-9\nregion = eu-west-1\n",
    );
  });

  it("refuses a default_profile that is not one of the profiles", async () => {
    // GIVEN profiles staging and production WHEN default_profile is prod THEN the script refuses it
    const result = await shells.run("dash", {
      env: {
        AWS_ID_TOKEN: sts.mintToken({ sub: MAIN }),
        AWS_CREDENTIALS_MODE: "profiles",
        AWS_CREDENTIALS_PROFILES: PROFILES,
        AWS_CREDENTIALS_DEFAULT_PROFILE: "prod",
      },
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("default_profile 'prod' is not the name of one of the profiles");
  });
});

describe.each(SHELLS)("hardening under %s", (shell: ShellName) => {
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
    // GIVEN a token directory to watch, and CLIs that fail in two ways
    const tokenDir = shells.tempDir("token-dir-");
    const env = {
      ...stsEnv(),
      AWS_CREDENTIALS_TOKEN_DIR: tokenDir,
      AWS_CREDENTIALS_ROLE_ARN: PRODUCTION_ROLE,
    };
    // Only an executable named aws passes for the AWS CLI: each fake is one, in its own directory.
    const killedCli = join(
      shells.fakeBin({
        // A CLI that is killed with the job (the runner cancels it) while the token file exists.
        aws: 'ls "$AWSCRED_TEST_DIR"/aws-credentials.*/web-identity-token >/dev/null && kill -TERM "$AWSCRED_TEST_SHELL_PID"; sleep 5',
      }),
      "aws",
    );
    // A CLI that answers with something that is not credentials.
    const garbageCli = join(shells.fakeBin({ aws: "echo garbage" }), "aws");
    const token = sts.mintToken({ sub: MAIN });
    const jobTrap = "trap 'echo JOB-EXIT-TRAP' EXIT";

    // WHEN credentials are obtained THEN nothing is left, and the job's EXIT trap still runs at the end
    const success = await shells.run(shell, { before: jobTrap, env: { ...env, AWS_ID_TOKEN: token } });
    expect(success.status).toBe(0);
    expect(success.stdout).toContain("JOB-EXIT-TRAP");
    expect(success.stderr).not.toMatch(/not found|_awscred/);
    expect(ComponentShells.leftIn(tokenDir)).toEqual([]);

    // WHEN STS denies the role (a tag token for a branch-only role) THEN exit 1 and nothing left
    const denied = await shells.run(shell, {
      env: {
        ...env,
        AWS_ID_TOKEN: sts.mintToken({ sub: "project_path:acme/web:ref_type:tag:ref:v1" }),
        AWS_CREDENTIALS_ROLE_ARN: STAGING_ROLE,
      },
    });
    expect(denied.stderr).toContain("AccessDenied");
    expect(denied.status).toBe(1);
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
      [{ AWS_CREDENTIALS_TOKEN_DIR: "tokens" }, "AWS_CREDENTIALS_TOKEN_DIR 'tokens' is not an absolute path"],
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

describe("the explain advice printed on AccessDenied is safe to paste", () => {
  it.each(["dash", "bash"] as const)(
    "pasted into %s, it runs nothing from the token's values",
    async (pasteShell) => {
      // GIVEN a branch name and an audience that are shell code (both legal: git allows $ ( ) ` ' ; in refs)
      const marker = shells.tempDir("pwned-");
      const branch = `x'$(touch ${marker}/branch)'\`touch ${marker}/tick\`;touch${"${IFS}"}${marker}/semi`;
      const aud = `'$(touch ${marker}/aud)'`;
      const token = sts.mintToken({
        sub: `project_path:acme/web:ref_type:branch:ref:${branch}`,
        aud: [aud, "sts.amazonaws.com"],
      });
      // WHEN the production role (main and release/* only) denies the token
      const result = await shells.run("dash", {
        env: { ...stsEnv(), AWS_ID_TOKEN: token, AWS_CREDENTIALS_ROLE_ARN: PRODUCTION_ROLE },
      });
      expect(sts.assumeCalls().map((c) => c.outcome)).toEqual(["AccessDenied"]);
      const advice = /^aws-credentials: {3}(npm run explain -- .*)$/m.exec(result.stderr)?.[1];
      expect(advice).toBeDefined();
      // AND the advice is pasted into a shell where npm prints its arguments
      const pasted = execFileSync(
        `/bin/${pasteShell}`,
        ["-c", `npm() { for a in "$@"; do printf '[%s]\\n' "$a"; done; }\n${advice!}`],
        { encoding: "utf8", cwd: marker },
      );
      // THEN npm got each value as one literal argument, and nothing ran
      expect(pasted).toBe(
        [
          "run",
          "explain",
          "--",
          "--sub",
          `project_path:acme/web:ref_type:branch:ref:${branch}`,
          "--aud",
          aud,
          "--role",
          PRODUCTION_ROLE,
        ]
          .map((a) => `[${a}]\n`)
          .join(""),
      );
      expect(readdirSync(marker)).toEqual([]);
      // AND the diagnosis shows the claims that now matter
      expect(result.stderr).toContain("ref_protected:   false");
      expect(result.stderr).toContain("pipeline_source: push");
    },
  );

  it("shows project_id and namespace_id when the token has them", async () => {
    // GIVEN a token with project_id and namespace_id, denied by the production role
    const token = sts.mintToken({
      sub: "project_path:acme/web:ref_type:branch:ref:x",
      project_id: "42",
      namespace_id: "7",
    });
    // (with BusyBox's awk decoding the token: the fallback for images without base64 or openssl)
    const result = await shells.run("busybox", {
      env: {
        ...stsEnv(),
        AWS_ID_TOKEN: token,
        AWS_CREDENTIALS_ROLE_ARN: PRODUCTION_ROLE,
        AWS_CREDENTIALS_FORCE_AWK_BASE64: "1",
      },
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("project_id:      42");
    expect(result.stderr).toContain("namespace_id:    7");
  });
});

describe("redaction: an endpoint that echoes the token", () => {
  it("never gets the token (or its signature) into the log", async () => {
    // GIVEN STS that quotes the token it was sent in its error message
    const token = sts.mintToken({ sub: MAIN });
    sts.injectFailures("EchoToken", 1);
    // WHEN the script runs
    const result = await shells.run("dash", {
      env: { ...stsEnv(), AWS_ID_TOKEN: token, AWS_CREDENTIALS_ROLE_ARN: PRODUCTION_ROLE },
    });
    // THEN the error is shown with the token replaced, and the job failed
    expect(sts.assumeCalls().map((c) => c.outcome)).toEqual(["InvalidIdentityToken"]);
    expect(result.stderr).toContain("Could not parse the token [token]");
    expect(result.status).toBe(1);
    expectNoSecrets(result.log, token);
  });
});

describe("retries: backoff, attempt bound and total-time bound, measured with a fake clock", () => {
  /** A fake `sleep` that records its argument and advances a fake `date +%s` by it; a throttled CLI. */
  function fakeClock(): { bin: string; dir: string; sleeps: () => number[]; calls: () => number } {
    const dir = shells.tempDir("fake-clock-");
    writeFileSync(join(dir, "elapsed"), "0");
    const bin = shells.fakeBin({
      sleep: `echo "$1" >> "${dir}/sleeps"; awk -v s="$1" '{ printf "%f", $1 + s }' "${dir}/elapsed" > "${dir}/e" && mv "${dir}/e" "${dir}/elapsed"`,
      date: `awk '{ printf "%d\\n", 1700000000 + $1 }' "${dir}/elapsed"`,
      aws: `echo x >> "${dir}/calls"; echo "An error occurred (Throttling) when calling the AssumeRoleWithWebIdentity operation: Rate exceeded" >&2; exit 254`,
    });
    const lines = (file: string) =>
      existsSync(join(dir, file)) ? readFileSync(join(dir, file), "utf8").split("\n").filter(Boolean) : [];
    return { bin, dir, sleeps: () => lines("sleeps").map(Number), calls: () => lines("calls").length };
  }

  it.each(["dash", "busybox"] as const)(
    "doubles the delay from the base, caps it, and jitters it within [d/2, d] (%s)",
    async (shell) => {
      // GIVEN STS that always throttles, base 1 s, cap 16 s, 8 attempts
      const clock = fakeClock();
      const result = await shells.run(shell, {
        pathPrefix: [clock.bin],
        env: {
          AWS_ID_TOKEN: sts.mintToken({ sub: MAIN }),
          AWS_CREDENTIALS_ROLE_ARN: STAGING_ROLE,
          AWS_CREDENTIALS_AWS_CLI: "aws",
          AWS_CREDENTIALS_MAX_ATTEMPTS: "8",
          AWS_CREDENTIALS_RETRY_BASE_DELAY: "1",
          AWS_CREDENTIALS_RETRY_MAX_DELAY: "16",
          AWS_CREDENTIALS_RETRY_MAX_TIME: "10000",
        },
      });
      // THEN 8 attempts, 7 sleeps, and the job failed at the attempt bound
      expect(result.status).toBe(1);
      expect(result.stderr).toContain("gave up after 8 attempts (Throttling)");
      expect(clock.calls()).toBe(8);
      const sleeps = clock.sleeps();
      expect(sleeps).toHaveLength(7);
      // AND retry n waited within [d/2, d] for d = min(1 × 2^(n-1), 16)
      const nominal = [1, 2, 4, 8, 16, 16, 16];
      sleeps.forEach((s, i) => {
        expect(s).toBeGreaterThanOrEqual(nominal[i]! / 2);
        expect(s).toBeLessThanOrEqual(nominal[i]!);
      });
      // AND the delays are jittered, not the nominal values
      expect(sleeps.some((s, i) => s < nominal[i]!)).toBe(true);
    },
  );

  it("starts no retry that would end after the total-time bound", async () => {
    // GIVEN STS that always throttles, a 10 s total bound and attempts enough to pass it
    const clock = fakeClock();
    const result = await shells.run("dash", {
      pathPrefix: [clock.bin],
      env: {
        AWS_ID_TOKEN: sts.mintToken({ sub: MAIN }),
        AWS_CREDENTIALS_ROLE_ARN: STAGING_ROLE,
        AWS_CREDENTIALS_AWS_CLI: "aws",
        AWS_CREDENTIALS_MAX_ATTEMPTS: "50",
        AWS_CREDENTIALS_RETRY_MAX_TIME: "10",
      },
    });
    // THEN it stopped with the bound named, having slept no more than 10 s in total
    expect(result.status).toBe(1);
    const sleeps = clock.sleeps();
    const slept = sleeps.reduce((a, b) => a + b, 0);
    expect(slept).toBeLessThanOrEqual(10);
    expect(clock.calls()).toBe(sleeps.length + 1);
    const [, elapsed, next] =
      /would exceed AWS_CREDENTIALS_RETRY_MAX_TIME=10s \(elapsed (\d+)s, next delay ([\d.]+)s/.exec(
        result.stderr,
      ) ?? [];
    // AND the refused retry could have ended after it: the clock counts whole seconds, so up to
    // 1 s more than `elapsed` may have passed
    expect(Number(elapsed)).toBe(Math.floor(slept));
    expect(Number(elapsed) + 1 + Number(next)).toBeGreaterThan(10);
  });
});
