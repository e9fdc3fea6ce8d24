/**
 * The component's script run directly under dash, with the real AWS CLI and the STS stand-in: every mode
 * and its hardening (xtrace, clean-up on every way out, token directories, STS endpoints), from the
 * scenarios in test/support/component-shell-scenarios.ts, whose bash and BusyBox runs are in the slow
 * tier (test/slow/aws-credentials-shells.test.ts); and what differs between shells or needs only one:
 * profile validation (dash and BusyBox awk), paste-safe explain advice, redaction, backoff and bounds.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { PRODUCTION_ROLE, STAGING_ROLE } from "../support/ci-local";
import { ComponentShells } from "../support/component-shell";
import {
  describeHardening,
  describeModes,
  expectNoSecrets,
  MAIN,
  PROFILES,
  stsEnv,
  useShellHarness,
} from "../support/component-shell-scenarios";
import type { StsStandIn } from "../support/sts-stand-in";

jest.setTimeout(60_000);

const harness = useShellHarness();
let sts: StsStandIn;
let shells: ComponentShells;
beforeAll(() => {
  ({ sts, shells } = harness);
});

describeModes(["dash"]);
describeHardening(["dash"]);

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
    // WHEN the script runs (writing the config only: nothing assumed)
    const result = await shells.run("dash", {
      env: {
        AWS_ID_TOKEN: sts.mintToken({ sub: MAIN }),
        AWS_CREDENTIALS_MODE: "profiles",
        AWS_CREDENTIALS_PROFILES: profiles,
        AWS_CREDENTIALS_REGION: "eu-west-1",
        AWS_CREDENTIALS_VERIFY_PROFILES: "false",
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

describe("the explain advice printed on AccessDenied is safe to paste", () => {
  /** The component run once for both paste shells: the production role denies a token whose values are code. */
  let denial:
    | Promise<{ marker: string; branch: string; aud: string; stderr: string; outcomes: string[] }>
    | undefined;
  const deny = () =>
    (denial ??= (async () => {
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
      const outcomes = sts.assumeCalls().map((c) => c.outcome);
      return { marker, branch, aud, stderr: result.stderr, outcomes };
    })());

  it.each(["dash", "bash"] as const)(
    "pasted into %s, it runs nothing from the token's values",
    async (pasteShell) => {
      const { marker, branch, aud, stderr, outcomes } = await deny();
      const result = { stderr };
      expect(outcomes).toEqual(["AccessDenied"]);
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
    // (with BusyBox's awk decoding the token: the fallback for images without base64 or openssl; and a
    // fake CLI answering AccessDenied as STS does: the diagnosis is the point, not the CLI)
    const deniedCli = shells.fakeBin({
      aws: "echo 'An error occurred (AccessDenied) when calling the AssumeRoleWithWebIdentity operation: Not authorized' >&2; exit 254",
    });
    const result = await shells.run("busybox", {
      env: {
        ...stsEnv(),
        AWS_ID_TOKEN: token,
        AWS_CREDENTIALS_ROLE_ARN: PRODUCTION_ROLE,
        AWS_CREDENTIALS_FORCE_AWK_BASE64: "1",
        AWS_CREDENTIALS_AWS_CLI: join(deniedCli, "aws"),
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
