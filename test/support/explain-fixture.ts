/** TEST SUPPORT for explain and the access report: one config, synthesized to HCL and read back. */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { loadConfigFile, sourceDigests } from "../../src/config/load";
import { lockPathFor, serializeLock } from "../../src/gitlab/lock";
import { lockFor } from "./configs";
import type { Config } from "../../src/config/schema";
import { synthesize } from "../../src/synth";
import { readSynthesizedStacks, type SynthesizedStack } from "../../src/terraform/synthesized-stacks";
import { run, runOk } from "./run";

export const EXPLAIN_CONFIG = {
  gitlab: { url: "https://gitlab.com" },
  accounts: [
    {
      name: "production",
      accountId: "111111111111",
      region: "eu-west-1",
      roles: [
        {
          name: "deploy",
          allow: [
            { project: "acme/web", branches: ["main", "release/*"] },
            { group: "acme/platform", tags: ["v*"] },
          ],
          managedPolicyArns: ["arn:aws:iam::aws:policy/ReadOnlyAccess"],
          inlinePolicies: {
            "deploy-assets": {
              Version: "2012-10-17",
              Statement: [{ Effect: "Allow", Action: "s3:PutObject", Resource: "arn:aws:s3:::acme-web/*" }],
            },
          },
          path: "/gitlab/",
        },
        {
          name: "admin",
          allow: [{ project: "acme/infra", branches: ["main"] }],
          managedPolicyArns: ["arn:aws:iam::aws:policy/AdministratorAccess"],
          permissionsBoundary: "arn:aws:iam::111111111111:policy/gitlab-boundary",
          maxSessionDuration: 7200,
        },
      ],
    },
    {
      name: "staging",
      accountId: "222222222222",
      region: "eu-west-1",
      roles: [
        {
          name: "preview",
          allow: [
            { project: "acme/web", branches: ["*"], protected: false },
            { group: "acme/platform", anyRef: true },
          ],
          managedPolicyArns: ["arn:aws:iam::aws:policy/PowerUserAccess"],
        },
      ],
    },
  ],
};

/** The IDs of acme/platform's subgroups in the fixture's lock. */
export const FIXTURE_SUBGROUP_IDS = [7001, 7002];

export interface ExplainFixture {
  readonly root: string;
  /** The HCL synth (`cdk.tf`), as committed. */
  readonly outdir: string;
  /**
   * The same config synthesized as JSON (`cdk.tf.json`): read back without the WebAssembly HCL parser,
   * which costs a second or more per process, so most CLI runs use it.
   */
  readonly jsonOutdir: string;
  readonly configFile: string;
  readonly config: Config;
  readonly stacks: SynthesizedStack[];
  readonly cleanup: () => void;
}

/** Writes the config as YAML, synthesizes it into `<tmp>/terraform` (HCL) and `<tmp>/terraform-json`, reads the HCL back. */
export async function synthesizeFixture(raw: object = EXPLAIN_CONFIG): Promise<ExplainFixture> {
  const root = mkdtempSync(join(tmpdir(), "explain-"));
  const configFile = join(root, "gitlab-oidc.yaml");
  writeFileSync(configFile, stringify(raw));
  // The lock `npm run resolve` would write: fake IDs; acme/platform has two subgroups.
  writeFileSync(
    lockPathFor(configFile),
    serializeLock(lockFor(raw as Record<string, unknown>, { "acme/platform": FIXTURE_SUBGROUP_IDS })),
  );
  const config = loadConfigFile(configFile);
  const outdir = join(root, "terraform");
  synthesize(config, { outdir, hcl: true, sources: sourceDigests(configFile) });
  const stacks = await readSynthesizedStacks(outdir);
  const jsonOutdir = join(root, "terraform-json");
  synthesize(config, { outdir: jsonOutdir, hcl: false, sources: sourceDigests(configFile) });
  return {
    root,
    outdir,
    jsonOutdir,
    configFile,
    config,
    stacks,
    cleanup: () => rmSync(root, { recursive: true, force: true }),
  };
}

const REPO = join(__dirname, "..", "..");
/** The compiled CLI, as `npm run explain` starts it. */
export const EXPLAIN_CLI = join(REPO, "dist", "src", "explain", "cli.js");

/** JWTs signed with a throwaway RS256 key by jose (ESM-only, so in one child Node process). */
export function makeTokens(claimSets: Record<string, unknown>[]): string[] {
  const script = `
    import { SignJWT, generateKeyPair } from "jose";
    const { privateKey } = await generateKeyPair("RS256");
    const tokens = [];
    for (const claims of JSON.parse(process.argv[1])) {
      tokens.push(await new SignJWT(claims).setProtectedHeader({ alg: "RS256", kid: "k" })
        .setIssuedAt().setExpirationTime("5m").sign(privateKey));
    }
    process.stdout.write(JSON.stringify(tokens));`;
  const out = runOk(process.execPath, ["--input-type=module", "-e", script, JSON.stringify(claimSets)], {
    cwd: REPO,
    timeoutMs: 30_000,
  });
  return JSON.parse(out.stdout) as string[];
}

export function runCli(
  args: string[],
  options: { input?: string; cwd?: string; env?: NodeJS.ProcessEnv } = {},
) {
  const result = run(process.execPath, [EXPLAIN_CLI, ...args], {
    cwd: options.cwd ?? REPO,
    input: options.input ?? "",
    env: { ...process.env, ...options.env },
    timeoutMs: 25_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}
