/**
 * `npm run bench`: synth and test speed at real scale, against stock cdktf, in one run on one machine.
 * Writes bench/results.md (or $BENCH_OUT). See bench/README.md for what is measured and how.
 * Settings are environment variables: USAGE below, or `npm run bench -- --help`.
 */
import "../src/runtime/entry"; // first: silences cdktf's DEP0044, enables the compile cache
import { execFileSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { cpus, loadavg, release, tmpdir, totalmem } from "node:os";
import { join, resolve } from "node:path";
import { lockPathFor } from "../src/gitlab/lock";
import { generateConfig, generateLock } from "./generate";
import { GNU_TIME, hasGnuTime, repeat, type Measurement } from "./measure";
import { nodeVersionBinaries } from "./node-versions";
import type { Phases } from "./phases";
import { medianPhases, packageTable, startupRow, startupTable, type StartupRow } from "./startup";
import { CDKTF_JSON, cdktfEnv, createFastProject, createStockProject } from "./stock";

const root = resolve(__dirname, "../..");
const env = process.env;
const int = (name: string, fallback: number) => {
  const value = Number(env[name]);
  return Number.isInteger(value) && value > 0 ? value : fallback;
};
const flag = (name: string) => env[name] === "1" || env[name] === "true";

const RUNS = int("BENCH_RUNS", 5);
const STOCK_RUNS = int("BENCH_STOCK_RUNS", RUNS);
// A start-up run takes ~0.1 s and its ratio moves by ±0.2 between medians of 5: more runs, steadier ratio.
const STARTUP_RUNS = int("BENCH_STARTUP_RUNS", Math.max(RUNS, 21));
const TEST_RUNS = int("BENCH_TEST_RUNS", 1);
// The unit tier takes ~10 s and moves by ±0.3 s from one run to the next on this machine: its row is the
// median of three (the slower test commands run once).
const UNIT_RUNS = int("BENCH_UNIT_RUNS", Math.max(TEST_RUNS, 3));
const WARMUP = env.BENCH_WARMUP === "0" ? 0 : int("BENCH_WARMUP", 1);
const SCALES = (env.BENCH_SCALES ?? "1,10,20,100")
  .split(",")
  .map(Number)
  .filter((n) => n > 0);
const ROLES = int("BENCH_ROLES", 50);
const OUT = resolve(root, env.BENCH_OUT ?? "bench/results.md");

const TARGETS = {
  mainWallMs: 600,
  stockRatio: 5,
  scaleWallMs: 5000,
  scaleRssKb: 1024 * 1024,
  /** Time per role at the largest scale at most this multiple of the time per role at 1,000 roles. */
  linearity: 1.2,
  /** 5,000 roles, one role changed / nothing changed, reusing the last synth's record (issue 25). */
  oneRoleChangedMs: 1000,
  unchangedMs: 500,
  /** `npm run test:unit` (issue 23). */
  unitMs: 10_000,
  /** `npx jest`: the fast tiers (test/tiers.mjs: unit, e2e, team; the slow tier runs in test:all). */
  jestMs: 60_000,
  /** `npm run test:all`, the README's test command: installer, static checks, every tier, Node 22/24. */
  testAllMs: 300_000,
};

const seconds = (ms: number) => (ms >= 10000 ? (ms / 1000).toFixed(1) : (ms / 1000).toFixed(2)) + " s";
const mib = (kb: number) => `${Math.round(kb / 1024)} MiB`;
const verdict = (pass: boolean) => (pass ? "**PASS**" : "**MISS**");
const cpu = (m: Measurement) => (Number.isNaN(m.cpuMs) ? "–" : seconds(m.cpuMs));
const spread = (m: Measurement) => (m.runs > 1 ? `${seconds(m.minWallMs)}–${seconds(m.maxWallMs)}` : "–");

function git(...args: string[]): string {
  try {
    return execFileSync("git", args, { cwd: root, encoding: "utf8" }).trim();
  } catch {
    return "unknown";
  }
}

/** The main job's environment; a full synth (nothing reused from an earlier run) unless `incremental`. */
function synthEnv(config: string, outdir: string, incremental = false): NodeJS.ProcessEnv {
  const result: NodeJS.ProcessEnv = { ...env, GITLAB_OIDC_CONFIG: config, CDKTF_OUTDIR: outdir };
  delete result.SYNTH_HCL_OUTPUT;
  if (incremental) delete result.GITLAB_OIDC_FULL_SYNTH;
  else result.GITLAB_OIDC_FULL_SYNTH = "1";
  return result;
}

/** Path → bytes of every file below `dir`. */
function treeOf(dir: string, base = dir): Map<string, Buffer> {
  const tree = new Map<string, Buffer>();
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) for (const [file, bytes] of treeOf(path, base)) tree.set(file, bytes);
    else tree.set(path.slice(base.length + 1), readFileSync(path));
  }
  return tree;
}

function sameTree(a: string, b: string): boolean {
  const left = treeOf(a);
  const right = treeOf(b);
  return (
    left.size === right.size && [...left].every(([file, bytes]) => right.get(file)?.equals(bytes) === true)
  );
}

function hclBytes(outdir: string, stacks: string[]): number {
  return stacks.reduce((sum, stack) => sum + statSync(join(outdir, "stacks", stack, "cdk.tf")).size, 0);
}

/**
 * bench/phases.ts as a profiling bundle (scripts/bundle.mjs), built once per bench run, with a launcher
 * like dist/main.js's: the runtime entry (compile cache), then the bundle (src/runtime/bundle-cache.ts).
 */
let phasesLauncher: Promise<string> | undefined;
function profilingLauncher(): Promise<string> {
  phasesLauncher ??= (async () => {
    const out = join(root, "dist", "bundle", "phases-profile.js");
    const { bundle } = (await import(join(root, "scripts", "bundle.mjs"))) as {
      bundle: (root: string, entry: string, out: string, options: { profile: boolean }) => Promise<unknown>;
    };
    await bundle(root, "bench/phases.ts", out, { profile: true });
    const launcher = join(root, "dist", "bundle", "phases-profile.launch.js");
    writeFileSync(
      launcher,
      'require("../src/runtime/entry.js");\n' +
        `require("../src/runtime/bundle-cache.js").runBundle(${JSON.stringify(out)}, module);\n`,
    );
    return launcher;
  })();
  return phasesLauncher;
}

async function phasesOf(config: string, scratch: string, runs: number): Promise<Phases> {
  const command = ["node", await profilingLauncher(), scratch];
  const samples: Phases[] = [];
  for (let i = 0; i < runs + 1; i++) {
    const m = await repeat("phases", command, {
      cwd: root,
      env: { ...env, GITLAB_OIDC_CONFIG: config },
      runs: 1,
    });
    // The first run fills the compile cache (or the bundle's code cache) for the profiling bundle.
    if (i > 0) samples.push(JSON.parse(m.last.stdout.trim().split("\n").pop()!) as Phases);
  }
  return medianPhases(samples);
}

interface Incremental {
  readonly unchanged: Measurement;
  readonly oneRole: Measurement;
  /** The output after the one-role runs equals a full synth of the last edited config. */
  readonly identical: boolean;
}

/**
 * After a full synth of `config` into `outdir`: the main job again with nothing changed, then with one
 * role's description changed before each run (a different edit each time), reusing the recorded
 * output; then a full synth of the last config into another directory, compared byte for byte.
 */
async function incrementalRows(
  config: string,
  outdir: string,
  work: string,
  accounts: number,
): Promise<Incremental> {
  const original = readFileSync(config, "utf8");
  const incrementalEnv = synthEnv(config, outdir, true);
  // One run to record the run as a whole (the full synth rows removed the output before each run).
  await repeat("record", ["node", "dist/main.js"], { cwd: root, env: incrementalEnv, runs: 1 });
  const unchanged = await repeat(`unchanged ${accounts}×${ROLES}`, ["node", "dist/main.js"], {
    cwd: root,
    env: incrementalEnv,
    runs: RUNS,
  });
  let edit = 0;
  const marker = "description: Deploys ";
  const oneRole = await repeat(`one role changed ${accounts}×${ROLES}`, ["node", "dist/main.js"], {
    cwd: root,
    env: incrementalEnv,
    runs: RUNS,
    before: () => {
      edit++;
      const at = original.indexOf(marker) + marker.length;
      writeFileSync(config, `${original.slice(0, at)}(edit ${edit}) ${original.slice(at)}`);
    },
  });
  const fullOut = join(work, "incremental-full");
  await repeat("full synth to compare", ["node", "dist/main.js"], {
    cwd: root,
    env: synthEnv(config, fullOut),
    runs: 1,
  });
  const identical = sameTree(outdir, fullOut);
  rmSync(fullOut, { recursive: true, force: true });
  writeFileSync(config, original);
  return { unchanged, oneRole, identical };
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), "gitlab-oidc-bench-"));
  const started = new Date();
  const load = loadavg()[0];
  const lines: string[] = [];
  const rows: string[][] = [];
  const notes: string[] = [];
  const exampleConfig = join(root, "examples", "basic", "gitlab-oidc.yaml");
  console.error(`bench: runs=${RUNS}, work dir ${work}`);

  try {
    // --- Main job vs stock cdktf ------------------------------------------------------------------
    const mainOut = join(work, "main-out");
    const before = () => rmSync(mainOut, { recursive: true, force: true });
    const npmSynth = await repeat("npm run synth", ["npm", "run", "--silent", "synth"], {
      cwd: root,
      env: synthEnv(exampleConfig, mainOut),
      runs: RUNS,
      warmup: WARMUP,
      before,
    });
    const mainHcl = readFileSync(join(mainOut, "stacks/production/cdk.tf"), "utf8");
    // `node dist/main.js` against a bare `node -e 0`, interleaved, on this Node and each tested LTS line
    // (the compile cache on, and once off to show its effect).
    const startup: StartupRow[] = [];
    const startupOptions = {
      root,
      env: synthEnv(exampleConfig, mainOut),
      runs: STARTUP_RUNS,
      warmup: WARMUP,
      outdir: mainOut,
    };
    startup.push(await startupRow(process.execPath, process.version, startupOptions));
    if (!flag("BENCH_SKIP_NODE_VERSIONS")) {
      try {
        for (const { version, binary } of nodeVersionBinaries(root)) {
          for (const cacheOff of [false, true]) {
            startup.push(await startupRow(binary, `v${version}`, startupOptions, cacheOff));
          }
        }
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        console.error(message);
        notes.push(`**Node 22/24 rows missing**: ${message.split("\n")[0]}`);
      }
    }

    let stock: Measurement | undefined;
    let fast: Measurement | undefined;
    if (!flag("BENCH_SKIP_STOCK")) {
      try {
        const cli = join(root, "node_modules/.bin/cdktf");
        // `cdktf synth --hcl` in a project directory, its cdktf.out cleared before each run.
        const cdktfSynth = (label: string, dir: string, runs: number) =>
          repeat(label, [cli, "synth", "--hcl"], {
            cwd: dir,
            env: { ...cdktfEnv(env), GITLAB_OIDC_CONFIG: exampleConfig },
            runs,
            warmup: Math.min(WARMUP, 1),
            before: () => rmSync(join(dir, "cdktf.out"), { recursive: true, force: true }),
          });
        const stockDir = join(work, "stock");
        const rewritten = createStockProject(root, stockDir);
        stock = await cdktfSynth("stock cdktf synth --hcl", stockDir, STOCK_RUNS);
        const stockHcl = readFileSync(join(stockDir, "cdktf.out/stacks/production/cdk.tf"), "utf8");
        notes.push(
          `Stock project: ${rewritten} source file(s) had deep provider imports rewritten to root imports; ` +
            `its HCL is ${stockHcl === mainHcl ? "byte-identical to" : "**different from**"} the main job's.`,
        );
        const fastDir = join(work, "fast");
        createFastProject(root, fastDir);
        fast = await cdktfSynth("cdktf synth --hcl (fast app)", fastDir, RUNS);
      } catch (error) {
        // Reported in the table instead of losing the rest of the run.
        const message = error instanceof Error ? error.message : String(error);
        console.error(message);
        notes.push(`**cdktf synth failed**, so the stock comparison is missing: ${message.split("\n")[0]}`);
      }
    }

    // --- Scale ------------------------------------------------------------------------------------
    let incremental: Incremental | undefined;
    const scale: { accounts: number; roles: number; bytes: number; hcl: number; m: Measurement }[] = [];
    for (const accounts of SCALES) {
      const config = join(work, `scale-${accounts}x${ROLES}.yaml`);
      writeFileSync(config, generateConfig(accounts, ROLES));
      writeFileSync(lockPathFor(config), generateLock(accounts, ROLES));
      const outdir = join(work, `scale-out-${accounts}`);
      const m = await repeat(`scale ${accounts}×${ROLES}`, ["npm", "run", "--silent", "synth"], {
        cwd: root,
        env: synthEnv(config, outdir),
        runs: RUNS,
        warmup: accounts * ROLES >= 1000 ? 0 : WARMUP,
        before: () => rmSync(outdir, { recursive: true, force: true }),
      });
      const stacks = Array.from({ length: accounts }, (_, a) => `acct-${String(a + 1).padStart(3, "0")}`);
      scale.push({
        accounts,
        roles: accounts * ROLES,
        bytes: statSync(config).size,
        hcl: hclBytes(outdir, stacks),
        m,
      });
      if (accounts === SCALES[SCALES.length - 1] && !flag("BENCH_SKIP_INCREMENTAL")) {
        incremental = await incrementalRows(config, outdir, work, accounts);
      }
      rmSync(outdir, { recursive: true, force: true });
    }

    // --- Per-step breakdown -------------------------------------------------------------------------
    const phases: { label: string; p: Phases }[] = [];
    if (!flag("BENCH_SKIP_PHASES")) {
      const phaseRuns = Math.min(RUNS, 3);
      phases.push({
        label: "example (3 roles)",
        p: await phasesOf(exampleConfig, join(work, "phases"), phaseRuns),
      });
      const largest = scale[scale.length - 1];
      if (largest) {
        phases.push({
          label: `${largest.accounts}×${ROLES} (${largest.roles} roles)`,
          p: await phasesOf(
            join(work, `scale-${largest.accounts}x${ROLES}.yaml`),
            join(work, "phases"),
            phaseRuns,
          ),
        });
      }
    }

    // --- Tests ------------------------------------------------------------------------------------
    let unit: Measurement | undefined;
    let jest: Measurement | undefined;
    let testAll: Measurement | undefined;
    if (!flag("BENCH_SKIP_TESTS")) {
      unit = await repeat("npm run test:unit", ["npm", "run", "-s", "test:unit"], {
        cwd: root,
        env,
        runs: UNIT_RUNS,
        allowFailure: true,
      });
      jest = await repeat("npx jest", ["npx", "jest", "--ci"], {
        cwd: root,
        env,
        runs: TEST_RUNS,
        allowFailure: true,
      });
      testAll = await repeat("npm run test:all", ["npm", "run", "-s", "test:all"], {
        cwd: root,
        env,
        runs: TEST_RUNS,
        allowFailure: true,
      });
    }

    // --- Report -----------------------------------------------------------------------------------
    const row = (what: string, m: Measurement, target: string, pass: boolean | undefined, extra = "") =>
      rows.push([
        what,
        seconds(m.wallMs),
        spread(m),
        cpu(m),
        mib(m.maxRssKb),
        mib(m.treeRssKb),
        String(m.runs),
        target,
        pass === undefined ? "–" : verdict(pass),
        extra,
      ]);
    row(
      "Main job: `npm run synth` (example, 2 stacks, 3 roles)",
      npmSynth,
      "≤ 0.6 s",
      npmSynth.wallMs <= TARGETS.mainWallMs,
    );
    if (stock) {
      const ratio = stock.wallMs / npmSynth.wallMs;
      row(
        "Stock cdktf: `cdktf synth --hcl`, app `npx ts-node main.ts`, root provider imports",
        stock,
        "main job ≥ 5× faster",
        ratio >= TARGETS.stockRatio,
        `main job is ${ratio.toFixed(1)}× faster` +
          (Number.isNaN(stock.cpuMs) ? "" : ` (CPU: ${(stock.cpuMs / npmSynth.cpuMs).toFixed(1)}×)`),
      );
    }
    if (fast) {
      row(
        "`cdktf synth --hcl` with the recommended app command (swc build + `node dist/main.js`)",
        fast,
        "–",
        undefined,
        `CLI overhead ${seconds(fast.wallMs - npmSynth.wallMs)}`,
      );
    }
    /** The closing line of a test run: jest's (`jest: …`) or test:all's (`test:all: …`). */
    const closing = (m: Measurement) =>
      /^(?:jest|test:all): (\d+ passed, \d+ failed, \d+ skipped)(?: \(.*\))?$/m.exec(m.last.stdout)?.[1] ??
      "no closing line";
    const outcome = (m: Measurement) => `${m.code ? `exit ${m.code}` : "passed"}: ${closing(m)}`;
    if (unit) {
      row(
        "Unit tests: `npm run test:unit` (the unit tier: in-process, test/*.test.ts)",
        unit,
        "≤ 10 s",
        unit.wallMs <= TARGETS.unitMs,
        outcome(unit),
      );
    }
    if (jest) {
      row(
        "jest: `npx jest` (the fast tiers: unit, e2e, team; two workers)",
        jest,
        "≤ 60 s",
        jest.wallMs <= TARGETS.jestMs,
        outcome(jest),
      );
    }
    if (testAll) {
      // Its parts, as test-all.mjs lists them: "  jest, every tier   ok     passed …, … (83.2 s)".
      const parts = [...testAll.last.stdout.matchAll(/^ {2}(\S.*?) +(?:ok|FAILED) +.*\(([\d.]+ s)\)$/gm)]
        .map(([, part, took]) => `${part} ${took}`)
        .join(", ");
      row(
        "README's test command: `npm run test:all` (installer, static checks, every tier, Node 22 and 24)",
        testAll,
        "≤ 5 min",
        testAll.wallMs <= TARGETS.testAllMs,
        `${outcome(testAll)}; ${parts}`,
      );
    }

    lines.push("# Benchmark results", "");
    lines.push(
      `Generated by \`npm run bench\` (bench/run.ts) on ${started.toISOString()}. ` +
        "Wall time and memory are medians over the timed runs (after warm-up runs); see bench/README.md for how they are measured.",
      "",
    );
    lines.push("| Machine | |", "| --- | --- |");
    lines.push(`| CPU | ${cpus()[0]?.model ?? "unknown"} |`);
    lines.push(`| Cores | ${cpus().length} |`);
    lines.push(`| Memory | ${Math.round(totalmem() / 2 ** 30)} GiB |`);
    lines.push(`| OS | Linux ${release()} |`);
    lines.push(`| Node.js | ${process.version} |`);
    lines.push(
      `| Commit | ${git("rev-parse", "--short", "HEAD")}${git("status", "--porcelain") ? " (uncommitted changes)" : ""} |`,
    );
    lines.push(`| Load average at start | ${load.toFixed(2)} |`);
    lines.push(
      `| Peak memory | ${hasGnuTime() ? `largest process: \`${GNU_TIME} -f %M\`` : "largest process: /proc sampling"}; tree: /proc sampling |`,
    );
    lines.push(
      `| Runs | synth ${RUNS} (+${WARMUP} warm-up), start-up ${STARTUP_RUNS}, stock ${STOCK_RUNS}, unit tests ${UNIT_RUNS}, other tests ${TEST_RUNS} |`,
      "",
    );

    lines.push("## Main job, stock cdktf and tests", "");
    lines.push(
      "| Command | Wall (median) | Wall (min–max) | CPU user+sys | Peak RSS, largest process | Peak RSS, process tree | Runs | Target | Result | Note |",
      "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- | --- |",
    );
    for (const r of rows) lines.push(`| ${r.join(" | ")} |`);
    lines.push("");
    lines.push(...startupTable(startup, `load average ${load.toFixed(2)} at the start`));

    if (scale.length > 0) {
      lines.push(`## Scale: generated configs, ${ROLES} roles per account, \`npm run synth\``, "");
      lines.push(
        "| Accounts | Roles | Config | HCL written | Wall (median) | Wall (min–max) | CPU user+sys | Per role | Marginal per role | Peak RSS, largest process | Peak RSS, tree |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
      );
      const marginals: number[] = [];
      scale.forEach((s, i) => {
        const prev = scale[i - 1];
        const marginal = prev ? (s.m.wallMs - prev.m.wallMs) / (s.roles - prev.roles) : undefined;
        if (marginal !== undefined) marginals.push(marginal);
        lines.push(
          `| ${s.accounts} | ${s.roles} | ${(s.bytes / 1024).toFixed(0)} KiB | ${(s.hcl / 1024).toFixed(0)} KiB | ` +
            `${seconds(s.m.wallMs)} | ${spread(s.m)} | ${cpu(s.m)} | ${(s.m.wallMs / s.roles).toFixed(2)} ms | ` +
            `${marginal === undefined ? "–" : `${marginal.toFixed(2)} ms`} | ${mib(s.m.maxRssKb)} | ${mib(s.m.treeRssKb)} |`,
        );
      });
      lines.push("");
      const largest = scale[scale.length - 1];
      const thousand = scale.find((s) => s.roles === 1000);
      const linear =
        thousand && largest.roles > 1000
          ? largest.m.wallMs / largest.roles / (thousand.m.wallMs / thousand.roles)
          : undefined;
      lines.push("| Scale target | Measured | Result |", "| --- | ---: | --- |");
      lines.push(
        `| ${largest.roles} roles, full synth, in ≤ 5 s | ${seconds(largest.m.wallMs)} (CPU ${cpu(largest.m)}) | ${verdict(largest.m.wallMs <= TARGETS.scaleWallMs)} |`,
      );
      lines.push(
        `| ${largest.roles} roles in ≤ 1 GB peak RSS (largest process) | ${mib(largest.m.maxRssKb)} | ${verdict(largest.m.maxRssKb <= TARGETS.scaleRssKb)} |`,
      );
      if (linear !== undefined) {
        lines.push(
          `| Linear: time per role at ${largest.roles} roles ≤ ${TARGETS.linearity}× that at 1,000 roles | ${linear.toFixed(2)}× | ${verdict(linear <= TARGETS.linearity)} |`,
        );
      }
      if (incremental) {
        const { unchanged, oneRole, identical } = incremental;
        lines.push(
          `| ${largest.roles} roles, one role changed, incremental (\`node dist/main.js\`), ≤ 1 s | ${seconds(oneRole.wallMs)} (CPU ${cpu(oneRole)}, ${mib(oneRole.maxRssKb)}) | ${verdict(oneRole.wallMs <= TARGETS.oneRoleChangedMs)} |`,
          `| ${largest.roles} roles, nothing changed (\`node dist/main.js\`), ≤ 0.5 s | ${seconds(unchanged.wallMs)} (CPU ${cpu(unchanged)}) | ${verdict(unchanged.wallMs <= TARGETS.unchangedMs)} |`,
          `| Output after the incremental runs byte-identical to a full synth (also a test: test/synth-incremental.test.ts) | ${identical ? "identical" : "**differs**"} | ${verdict(identical)} |`,
        );
      }
      lines.push("");
    }

    if (phases.length > 0) {
      lines.push(
        "## Where the main job's time goes",
        "",
        "The steps of `src/synth.ts` as `synthesize()` reports them, in a fresh process started like `node dist/main.js` " +
          "(bench/phases.ts as a profiling bundle, compile cache on; median of up to 3 runs), from the process's start.",
        "",
      );
      lines.push(`| Step | ${phases.map((p) => p.label).join(" | ")} |`);
      lines.push(`| --- | ${phases.map(() => "---:").join(" | ")} |`);
      const step = (label: string, pick: (p: Phases) => number) => {
        lines.push(
          `| ${label} | ${phases.map(({ p }) => `${seconds(pick(p))} (${Math.round((pick(p) / p.total) * 100)}%)`).join(" | ")} |`,
        );
      };
      step("Node's own start-up (bootstrap, as in a bare `node -e 0`)", (p) => p.node);
      step("Load modules (read and compile the bundle, run its modules: by package below)", (p) => p.modules);
      step("Read and validate the config (YAML, schema, rules)", (p) => p.loadValidate);
      step("Build the construct tree", (p) => p.construct);
      step("cdktf `App.synth()`, HCL formatted as rendered (src/terraform/formatted-hcl.ts)", (p) => p.synth);
      step("Stack files' digests", (p) => p.format);
      step("Generated files (src/generated-files.ts) and manifest.json", (p) => p.generated);
      step("Move into place", (p) => p.install);
      step("Reuse check and record (src/synth-cache.ts)", (p) => p.reuse + p.record);
      lines.push(`| Total | ${phases.map(({ p }) => seconds(p.total)).join(" | ")} |`, "");
      lines.push(...packageTable(phases[0].p, phases[0].label));
    }

    lines.push("## Notes", "");
    for (const note of notes) lines.push(`- ${note}`);
    lines.push(
      "- `cdktf.json`'s app command is the same fast path, so `cdktf synth|diff|deploy` start as quickly: " +
        "`" +
        CDKTF_JSON.app +
        '` (the "fast app" row shows what the cdktf CLI itself adds).',
    );
    if (load > 0.5) {
      lines.push(
        `- The load average was ${load.toFixed(2)} when the run started: other work was running and the times are noisy.`,
      );
    }
    lines.push("");

    mkdirSync(resolve(OUT, ".."), { recursive: true });
    // Formatted like the rest of the repository, so `npm test`'s prettier --check passes on the result.
    const prettier = await import("prettier");
    const options = (await prettier.resolveConfig(OUT)) ?? {};
    writeFileSync(OUT, await prettier.format(lines.join("\n"), { ...options, filepath: OUT }));
    console.error(`bench: wrote ${OUT}`);
  } finally {
    if (flag("BENCH_KEEP")) console.error(`bench: kept ${work}`);
    else if (existsSync(work)) rmSync(work, { recursive: true, force: true });
  }
}

const USAGE = `Usage: npm run bench [-- --help]

Measures the main job, stock cdktf synth, generated configs at scale and the test commands, and writes
bench/results.md (bench/README.md explains what and how). A full run takes about 10 minutes.

Settings (environment variables):
  BENCH_RUNS=5          timed runs per synth row (medians are reported)
  BENCH_STOCK_RUNS      timed runs of stock \`cdktf synth\` (default: BENCH_RUNS)
  BENCH_STARTUP_RUNS    timed runs of each start-up row (default: BENCH_RUNS, at least 21)
  BENCH_TEST_RUNS=1     timed runs of \`npx jest\` and \`npm run test:all\`
  BENCH_UNIT_RUNS       timed runs of \`npm run test:unit\` (default: BENCH_TEST_RUNS, at least 3)
  BENCH_WARMUP=1        untimed runs before each synth row
  BENCH_SCALES=1,10,100 accounts per scale config
  BENCH_ROLES=50        roles per account
  BENCH_SKIP_TESTS=1    skip the test-suite rows      BENCH_SKIP_STOCK=1  skip the cdktf CLI rows
  BENCH_SKIP_PHASES=1   skip the per-step breakdown   BENCH_OUT=<file>    where to write the table
  BENCH_SKIP_NODE_VERSIONS=1  start-up on this Node only (not also on Node 22 and 24)
  BENCH_KEEP=1          keep the temporary directory

A quick look: BENCH_RUNS=1 BENCH_SKIP_TESTS=1 npm run bench
Start-up only: BENCH_RUNS=3 BENCH_SKIP_TESTS=1 BENCH_SKIP_STOCK=1 BENCH_SCALES= npm run bench
`;

// Settings are environment variables; an argument is a request for help (or a mistake), never a run.
const [arg] = process.argv.slice(2);
if (arg === "--help" || arg === "-h") {
  process.stdout.write(USAGE);
} else if (arg !== undefined) {
  process.stderr.write(`bench: unknown argument ${arg}\n\n${USAGE}`);
  process.exitCode = 2;
} else {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : error);
    process.exit(1);
  });
}
