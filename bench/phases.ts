/**
 * Where the main job's time goes: the steps of `src/synth.ts` timed one by one, in a fresh process,
 * printed as JSON on stdout. It calls the same exported functions as `synthesize()` (buildApp, the
 * hcl-tools formatter, parseStackFile, generatedFiles) in the same order; only the final move into
 * place is left out.
 *
 *   GITLAB_OIDC_CONFIG=<yaml> node dist/bench/phases.js <scratch dir>
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export interface Phases {
  /** Requiring the config loader, cdktf, the stacks and the provider classes. */
  readonly modules: number;
  /** YAML → schema → rules. */
  readonly loadValidate: number;
  /** Building the construct tree. */
  readonly construct: number;
  /** cdktf's App.synth (JSON → HCL text, files written). */
  readonly synth: number;
  /** Importing @cdktf/hcl-tools and its first call (WebAssembly instantiation). */
  readonly formatLoad: number;
  /** Formatting every stack file. */
  readonly format: number;
  /** Importing @cdktf/hcl2json and its first call (WebAssembly instantiation). */
  readonly parseLoad: number;
  /** Parsing every stack file back (hcl2json + reading the model). */
  readonly parse: number;
  /** src/generated-files.ts: the files written next to the stacks (CI jobs, access report, …). */
  readonly generated: number;
  /** Sum of the above. */
  readonly total: number;
  /** Bytes of HCL written. */
  readonly hclBytes: number;
}

const now = () => Number(process.hrtime.bigint()) / 1e6;

async function main(): Promise<void> {
  const scratch = process.argv[2];
  if (!scratch) throw new Error("usage: phases.js <scratch dir>");
  rmSync(scratch, { recursive: true, force: true });
  mkdirSync(scratch, { recursive: true });
  let t = now();
  const lap = () => {
    const previous = t;
    t = now();
    return t - previous;
  };

  const { configPath, loadConfigFile } = await import("../src/config/load");
  const { buildApp } = await import("../src/synth");
  const { parseStackFile } = await import("../src/terraform/synthesized-stacks");
  const { generatedFiles } = await import("../src/generated-files");
  const modules = lap();

  const config = loadConfigFile(configPath());
  const loadValidate = lap();

  process.env.SYNTH_HCL_OUTPUT = "true";
  const app = buildApp(config, scratch, true);
  const construct = lap();
  app.synth();
  const synth = lap();

  const stacks = config.accounts.map((account) => account.name);
  const files = stacks.map((stack) => join(scratch, "stacks", stack, "cdk.tf"));
  const { format } = await import("@cdktf/hcl-tools");
  await format('a = "b"\n');
  const formatLoad = lap();
  let hclBytes = 0;
  for (const file of files) {
    const formatted = await format(readFileSync(file, "utf8"));
    const text = formatted.replace(/\n{3,}/g, "\n\n").replace(/\n*$/, "\n");
    hclBytes += Buffer.byteLength(text);
    writeFileSync(file, text);
  }
  const formatTime = lap();

  const { parse } = await import("@cdktf/hcl2json");
  await parse("warmup.tf", 'a = "b"\n');
  const parseLoad = lap();
  const synthesized = await Promise.all(stacks.map((stack, i) => parseStackFile(stack, files[i])));
  const parseTime = lap();
  for (const [file, content] of Object.entries(generatedFiles(config, synthesized))) {
    writeFileSync(join(scratch, file), content);
  }
  const generated = lap();

  const phases: Phases = {
    modules,
    loadValidate,
    construct,
    synth,
    formatLoad,
    format: formatTime,
    parseLoad,
    parse: parseTime,
    generated,
    total:
      modules +
      loadValidate +
      construct +
      synth +
      formatLoad +
      formatTime +
      parseLoad +
      parseTime +
      generated,
    hclBytes,
  };
  rmSync(scratch, { recursive: true, force: true });
  process.stdout.write(JSON.stringify(phases) + "\n");
}

if (require.main === module) {
  main().then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(error instanceof Error ? (error.stack ?? error.message) : error);
      process.exit(1);
    },
  );
}
