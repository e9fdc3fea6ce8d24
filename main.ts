/**
 * The app: reads the config (`$GITLAB_OIDC_CONFIG` or gitlab-oidc.yaml), validates all of it, and only
 * then writes one Terraform stack per account. `npm run synth` writes formatted HCL to terraform/ (the
 * reviewed, committed artifact); under `cdktf synth|diff|deploy` the CLI's CDKTF_OUTDIR and
 * SYNTH_HCL_OUTPUT decide where and in which format.
 *
 * A run whose config, lock and tool are unchanged since the last run into the same output, with that
 * output untouched, does nothing (src/synth-cache.ts); otherwise only the accounts whose inputs changed
 * are synthesized again. `GITLAB_OIDC_FULL_SYNTH=1` synthesizes everything.
 */
import "./src/runtime/entry"; // first: silences cdktf's DEP0044, enables the compile cache
import { resolve } from "node:path";
import { configPath } from "./src/config/load";
import { lockPathFor } from "./src/gitlab/lock";
import { progressReporter } from "./src/runtime/progress";
import { defaultSynthCacheDir, runKeyOf, upToDate } from "./src/synth-cache";
import { realOutdir } from "./src/synth-location";

const DEFAULT_OUTDIR = "terraform";

function report(stacks: readonly string[], roles: number, file: string, outdir: string, note = ""): void {
  const names = stacks.slice(0, 10).join(", ") + (stacks.length > 10 ? ", …" : "");
  console.log(
    `Synthesized ${stacks.length} stack(s), ${roles} role(s) from ${file} into ${outdir}/stacks/ (${names})${note}`,
  );
}

async function main(): Promise<number> {
  const file = configPath();
  const outdir = process.env.CDKTF_OUTDIR || DEFAULT_OUTDIR;
  const hclSetting = process.env.SYNTH_HCL_OUTPUT;
  const hcl =
    hclSetting === undefined || hclSetting === "" ? true : hclSetting === "true" || hclSetting === "1";
  const full = process.env.GITLAB_OIDC_FULL_SYNTH === "1";
  const cacheDir = defaultSynthCacheDir();
  const runKey = cacheDir ? runKeyOf(resolve(file), lockPathFor(resolve(file)), hcl) : undefined;
  if (cacheDir && runKey && !full) {
    const unchanged = upToDate(cacheDir, realOutdir(outdir), hcl, runKey);
    if (unchanged) {
      report(unchanged.stacks, unchanged.roles, file, outdir, "; unchanged since the last synth");
      return 0;
    }
  }

  // Loaded only when there is work: cdktf and the provider classes are most of the start-up.
  const { loadConfigFile } = await import("./src/config/load");
  const { ConfigError } = await import("./src/config/rules");
  const { synthesize } = await import("./src/synth");
  let config;
  try {
    config = loadConfigFile(file);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(error.message);
    const count = error.problems.length;
    console.error(`${count} problem${count === 1 ? "" : "s"} in ${file}; nothing was written.`);
    return 1;
  }
  const roles = config.accounts.reduce((sum, account) => sum + account.roles.length, 0);
  const progress = progressReporter(process.stderr, roles);
  let result;
  try {
    result = synthesize(config, {
      outdir,
      hcl,
      // Unchanged accounts are reused from the last synth into this outdir (src/synth-cache.ts).
      ...(cacheDir ? { cacheDir, reuse: !full } : {}),
      ...(runKey ? { runKey } : {}),
      ...(progress ? { onProgress: progress.update } : {}),
    });
  } finally {
    progress?.end();
  }
  const reused = result.reused.length;
  report(result.stacks, roles, file, outdir, reused > 0 ? `; ${reused} unchanged stack(s) reused` : "");
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : error);
    process.exit(1);
  },
);
