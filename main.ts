/**
 * The app: reads the config, validates all of it, and only then writes one Terraform stack per account.
 *
 * Which config (src/layout.ts): `$GITLAB_OIDC_CONFIG`, else the team's gitlab-oidc.yaml, else (a fresh
 * clone) the example in examples/basic/. Where it writes: `--out DIR` or `$CDKTF_OUTDIR` (set by
 * `cdktf synth|diff|deploy`), else beside the config: the team's config writes terraform/, any other
 * config its own directory, so a scratch run never overwrites the team's output. The team's extension,
 * `<config name>.extend.ts` beside the config, runs in every account stack (docs/extending.md).
 *
 * A run whose config, lock and tool are unchanged since the last run into the same output, with that
 * output untouched, does nothing (src/synth-cache.ts); otherwise only the stacks whose inputs changed
 * are synthesized again. `GITLAB_OIDC_FULL_SYNTH=1` synthesizes everything, and so does every run with
 * an extension (code, which no hash of the config can vouch for).
 */
import "./src/runtime/entry"; // first: silences cdktf's DEP0044, enables the compile cache
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { chooseConfig, extensionFor, lockPathFor, outdirFor } from "./src/layout";
import { realLocation, WRITTEN_FILES_RECORD } from "./src/output-files";
import { printLine } from "./src/runtime/print-line";
import { progressReporter } from "./src/runtime/progress";
import { withoutTokenCreationStacksUntil } from "./src/runtime/token-stacks";
import { defaultSynthCacheDir, readRawInputs, runKeyOf, toolFingerprint, upToDate } from "./src/synth-cache";

const USAGE = `Usage: npm run synth [-- --out DIR]

Validates the config and writes its Terraform stacks, ACCESS.md and pipeline jobs.
  config   $GITLAB_OIDC_CONFIG, else gitlab-oidc.yaml, else the example (examples/basic/)
  --out    output directory (also $CDKTF_OUTDIR); default beside the config: terraform/ for
           gitlab-oidc.yaml, <name>.terraform/ for <name>.yaml
  $GITLAB_OIDC_SYNTH_WORKERS  worker threads beside the main one for a large config (default: one
           per 1,500 roles to synthesize, up to the cores less one; 0: one thread)
`;

function outOption(argv: readonly string[]): string | undefined | Error {
  let out: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--out" && argv[i + 1] !== undefined && argv[i + 1] !== "") out = argv[++i];
    else if (arg.startsWith("--out=") && arg.length > 6) out = arg.slice(6);
    else return new Error(arg === "--out" ? "--out needs a directory" : `unknown argument: ${arg}`);
  }
  return out;
}

async function main(argv: readonly string[]): Promise<number> {
  if (argv.includes("--help") || argv.includes("-h")) {
    process.stdout.write(USAGE);
    return 0;
  }
  const out = outOption(argv);
  if (out instanceof Error) {
    console.error(`${out.message}\n\n${USAGE}`);
    return 2;
  }
  const { file, source } = chooseConfig();
  const outdir = out || process.env.CDKTF_OUTDIR || outdirFor(file);
  const hclSetting = process.env.SYNTH_HCL_OUTPUT;
  const hcl =
    hclSetting === undefined || hclSetting === "" ? true : hclSetting === "true" || hclSetting === "1";
  const report = (stacks: readonly string[], roles: number, extended: boolean, note: string) => {
    const names = stacks.slice(0, 10).join(", ") + (stacks.length > 10 ? ", …" : "");
    // An extension is code that may have written through process.stdout: this line goes after it.
    const print = extended ? (line: string) => console.log(line) : printLine;
    print(
      `Synthesized ${stacks.length} stack(s), ${roles} role(s) from ${file} into ${outdir}/stacks/ (${names})` +
        (extended ? ` with ${extensionFor(file)}` : "") +
        note,
    );
    if (source === "example") {
      print(
        "There is no gitlab-oidc.yaml yet, so this was upstream's example. Start your own: npm run init (docs/layout.md).",
      );
    }
  };

  const full = process.env.GITLAB_OIDC_FULL_SYNTH === "1";
  const extended = existsSync(extensionFor(file));
  const cacheDir = defaultSynthCacheDir();
  // Read once: the run key, the source digests and the config all come from these bytes.
  const inputs = readRawInputs(resolve(file), lockPathFor(resolve(file)));
  const runKey = cacheDir ? runKeyOf(resolve(file), lockPathFor(resolve(file)), hcl, inputs) : undefined;
  if (cacheDir && runKey && !full && !extended) {
    const unchanged = upToDate(cacheDir, realLocation(resolve(outdir)), hcl, runKey);
    if (unchanged) {
      report(unchanged.stacks, unchanged.roles, false, "; unchanged since the last synth");
      return 0;
    }
  }

  // Loaded only when there is work: cdktf and the provider classes are most of the start-up. cdktf's
  // modules make tokens as they load, without recording where (src/runtime/token-stacks.ts).
  const [
    { loadConfigFile, sourceDigests },
    { PARSE_CACHE_SUBDIR, parseCacheFile },
    { ConfigError },
    { audienceMigrationNotices, previousClientIds },
    { ExtensionError, loadExtension },
    { OutputFilesError, synthesizeInParallel },
    { SynthWorkers, workersForConfig, workersFromEnv },
    { changedStacks, checkedAccounts, planSynth },
    { terminalSafe },
  ] = await withoutTokenCreationStacksUntil(() =>
    Promise.all([
      import("./src/config/load"),
      import("./src/config/parse-cache"),
      import("./src/config/rules"),
      import("./src/config/audience-migration"),
      import("./src/extension/load"),
      import("./src/synth"),
      import("./src/synth-workers"),
      import("./src/synth-plan"),
      import("./src/terminal-text"),
    ]),
  );
  let workers: number | undefined;
  try {
    workers = workersFromEnv();
  } catch (error) {
    console.error((error as Error).message);
    return 2;
  }
  // When every stack will be synthesized (a full synth, or an output never written), the workers for a
  // large config start now and load the code while this thread reads the config (src/synth-workers.ts).
  const everyStack = full || !existsSync(join(outdir, WRITTEN_FILES_RECORD));
  const early = !extended && everyStack && inputs ? (workers ?? workersForConfig(inputs.config.length)) : 0;
  const started = early > 0 ? new SynthWorkers(early, process.argv[1]!) : undefined;
  // The plan reads the last synth's records once, while the config is checked: an account whose record
  // says it passed the same checks on the same inputs is not checked again (src/synth-plan.ts).
  let plan: import("./src/synth-plan").SynthPlan | undefined;
  const planning = cacheDir && !full && !extended;
  // Unchanged accounts' items are not parsed again: their data is kept beside the records, keyed by
  // their bytes and the tool (src/config/parse-cache.ts). A full synth trusts no cache.
  const parseCache =
    cacheDir && !full
      ? {
          file: parseCacheFile(join(dirname(cacheDir), PARSE_CACHE_SUBDIR), resolve(file)),
          salt: toolFingerprint(),
        }
      : undefined;
  let config;
  let extension;
  try {
    config = loadConfigFile(file, {
      ...(inputs ? { inputs } : {}),
      ...(parseCache ? { parseCache } : {}),
      ...(planning
        ? {
            checkedBefore: (parsed) => checkedAccounts((plan = planSynth(parsed, { outdir, hcl, cacheDir }))),
          }
        : {}),
    });
    extension = loadExtension(extensionFor(file));
  } catch (error) {
    if (!(error instanceof ConfigError || error instanceof ExtensionError)) throw error;
    console.error(terminalSafe(error.message));
    const count = error instanceof ConfigError ? error.problems.length : 1;
    console.error(`${count} problem${count === 1 ? "" : "s"} in ${file}; nothing was written.`);
    return 1;
  }
  // The plan of the config that passed (the careful reader makes another object when it had to read).
  if (plan?.config !== config) plan = undefined;
  // A reused stack's files stay as they are, so only the others can stop accepting an audience.
  const stackNames = plan ? changedStacks(plan) : config.accounts.map((account) => account.name);
  const notices = audienceMigrationNotices(config, previousClientIds(outdir, stackNames));
  const roles = config.accounts.reduce((sum, account) => sum + account.roles.length, 0);
  const progress = progressReporter(() => process.stderr, roles);
  let result;
  try {
    // A large config's stacks are shared with worker threads running this script (src/synth-workers.ts).
    result = await synthesizeInParallel(config, {
      workerScript: process.argv[1]!,
      ...(started ? { workers: started } : workers !== undefined ? { workers } : {}),
      outdir,
      hcl,
      sources: sourceDigests(file, inputs),
      ...(extension ? { extension } : {}),
      // Unchanged stacks are reused from the last synth into this outdir (src/synth-cache.ts).
      ...(cacheDir ? { cacheDir, reuse: !full } : {}),
      ...(plan ? { plan } : {}),
      ...(runKey ? { runKey } : {}),
      ...(progress ? { onProgress: progress.update } : {}),
    });
  } catch (error) {
    progress?.end();
    if (error instanceof OutputFilesError) {
      console.error(terminalSafe(error.message));
      return 1;
    }
    // A role the extension adds is checked like the config's: its problems are the config's.
    if (!(error instanceof ConfigError)) throw error;
    console.error(terminalSafe(error.message));
    console.error(`${error.problems.length} problem(s) in ${extensionFor(file)}; nothing was written.`);
    return 1;
  }
  progress?.end();
  for (const notice of notices) console.error(`WARNING: ${terminalSafe(notice)}`);
  const reused = result.reused.length;
  report(
    result.stacks,
    roles,
    extension !== undefined,
    extension
      ? "; every stack synthesized (an extension is code: nothing is reused while one exists)"
      : reused > 0
        ? `; ${reused} unchanged stack(s) reused`
        : "",
  );
  return 0;
}

// The argument src/synth-workers.ts starts a worker thread with (SYNTH_WORKER_ARG), spelled out here so
// a run that is no worker loads nothing to tell.
if (process.argv.includes("--gitlab-oidc-synth-worker")) {
  // A worker thread this script started to synthesize some of a large config's stacks.
  withoutTokenCreationStacksUntil(() => import("./src/synth-workers"))
    .then(({ serveSynthWorker }) => serveSynthWorker())
    .catch((error: unknown) => {
      console.error(error instanceof Error ? error.message : error);
      process.exit(2);
    });
} else {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error(error instanceof Error ? (error.stack ?? error.message) : error);
      process.exit(1);
    },
  );
}
