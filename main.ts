/**
 * The app: reads the config (`$GITLAB_OIDC_CONFIG` or gitlab-oidc.yaml), validates all of it, and only
 * then writes one Terraform stack per account. `npm run synth` writes formatted HCL to terraform/ (the
 * reviewed, committed artifact); under `cdktf synth|diff|deploy` the CLI's CDKTF_OUTDIR and
 * SYNTH_HCL_OUTPUT decide where and in which format.
 */
import "./src/runtime/entry"; // first: silences cdktf's DEP0044, enables the compile cache
import { configPath, loadConfigFile } from "./src/config/load";
import { ConfigError } from "./src/config/rules";
import { progressReporter } from "./src/runtime/progress";
import { synthesize } from "./src/synth";
import { defaultSynthCacheDir } from "./src/synth-cache";

const DEFAULT_OUTDIR = "terraform";

async function main(): Promise<number> {
  const file = configPath();
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
  const outdir = process.env.CDKTF_OUTDIR || DEFAULT_OUTDIR;
  const hclSetting = process.env.SYNTH_HCL_OUTPUT;
  const hcl =
    hclSetting === undefined || hclSetting === "" ? true : hclSetting === "true" || hclSetting === "1";
  const roles = config.accounts.reduce((sum, account) => sum + account.roles.length, 0);
  const progress = progressReporter(process.stderr, roles);
  const cacheDir = defaultSynthCacheDir();
  let result;
  try {
    result = synthesize(config, {
      outdir,
      hcl,
      // Unchanged accounts are reused from the last synth into this outdir (src/synth-cache.ts);
      // GITLAB_OIDC_FULL_SYNTH=1 synthesizes all of them.
      ...(cacheDir ? { cacheDir } : {}),
      reuse: process.env.GITLAB_OIDC_FULL_SYNTH !== "1",
      ...(progress ? { onProgress: progress.update } : {}),
    });
  } finally {
    progress?.end();
  }
  const names = result.stacks.slice(0, 10).join(", ") + (result.stacks.length > 10 ? ", …" : "");
  console.log(
    `Synthesized ${result.stacks.length} stack(s), ${roles} role(s) from ${file} into ${outdir}/stacks/ (${names})`,
  );
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : error);
    process.exit(1);
  },
);
