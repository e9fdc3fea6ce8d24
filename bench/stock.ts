/**
 * The "stock cdktf" baseline: a temporary project laid out like `cdktf init --template=typescript`
 * (the template's cdktf.json app command `npx ts-node main.ts` and its tsconfig.json) running this
 * repository's own main.ts, src/ and stacks/, with one change: the deep provider imports
 * (`@cdktf/provider-aws/lib/iam-role`) are rewritten to the package root, the way cdktf's docs and
 * generated examples import (`import * as aws from "@cdktf/provider-aws"`). node_modules is a
 * symlink to the repository's, so both sides run the same package versions.
 *
 * A second project, "fast", has only a cdktf.json whose app command is the repository's fast path
 * (swc build + `node dist/main.js`), to show what the CLI itself costs on top of the main job.
 */
import { cpSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** cdktf-cli 0.21's typescript template tsconfig (bundle/templates/typescript/tsconfig.json), verbatim. */
function templateTsconfig(root: string): unknown {
  const file = join(root, "node_modules/cdktf-cli/bundle/templates/typescript/tsconfig.json");
  return JSON.parse(readFileSync(file, "utf8"));
}

/** `lib/<module>` → the name the package root exports it under (`export * as iamRole from './iam-role'`). */
function rootExports(root: string, pkg: string): Map<string, string> {
  const index = readFileSync(join(root, "node_modules", pkg, "lib/index.d.ts"), "utf8");
  const names = new Map<string, string>();
  for (const match of index.matchAll(/export \* as (\w+) from '\.\/([^']+)'/g)) names.set(match[2], match[1]);
  return names;
}

const DEEP_IMPORT = /import (type )?\{([^}]+)\} from "@cdktf\/provider-(aws|tls)\/lib\/([^"]+)";/g;

/** Rewrites deep provider imports in one source file to imports from the package root. */
export function rewriteImports(
  source: string,
  exportsOf: (pkg: "aws" | "tls") => Map<string, string>,
): string {
  const used = new Set<string>();
  const rewritten = source.replace(
    DEEP_IMPORT,
    (_all, _type, names: string, pkg: "aws" | "tls", mod: string) => {
      const namespace = exportsOf(pkg).get(mod);
      if (!namespace) throw new Error(`@cdktf/provider-${pkg} does not export lib/${mod} from its root`);
      used.add(pkg);
      return names
        .split(",")
        .map((name) => name.trim())
        .filter(Boolean)
        .map((name) => {
          // A `type X` specifier: the alias below names the type as well.
          const [imported, local = imported] = name.replace(/^type\s+/, "").split(/\s+as\s+/);
          // `import X = ns.member` is both the value and the type, like the named import it replaces.
          return `import ${local} = ${pkg}Provider.${namespace}.${imported};`;
        })
        .join("\n");
    },
  );
  if (used.size === 0) return source;
  const header = [...used]
    .sort()
    .map((pkg) => `import * as ${pkg}Provider from "@cdktf/provider-${pkg}";\n`)
    .join("");
  return header + rewritten;
}

function typescriptFiles(dir: string): string[] {
  const files: string[] = [];
  for (const entry of readdirSync(dir).sort()) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) files.push(...typescriptFiles(path));
    else if (path.endsWith(".ts") && !path.endsWith(".d.ts")) files.push(path);
  }
  return files;
}

/** Builds the stock project in `dir` (which must not exist yet); returns the number of rewritten files. */
export function createStockProject(root: string, dir: string): number {
  mkdirSync(dir, { recursive: true });
  for (const source of ["main.ts", "src", "stacks"])
    cpSync(join(root, source), join(dir, source), { recursive: true });
  symlinkSync(join(root, "node_modules"), join(dir, "node_modules"), "dir");
  const exportsCache = new Map<string, Map<string, string>>();
  const exportsOf = (pkg: "aws" | "tls") => {
    if (!exportsCache.has(pkg)) exportsCache.set(pkg, rootExports(root, `@cdktf/provider-${pkg}`));
    return exportsCache.get(pkg)!;
  };
  let rewritten = 0;
  for (const file of [
    join(dir, "main.ts"),
    ...typescriptFiles(join(dir, "src")),
    ...typescriptFiles(join(dir, "stacks")),
  ]) {
    const source = readFileSync(file, "utf8");
    const result = rewriteImports(source, exportsOf);
    if (result !== source) {
      writeFileSync(file, result);
      rewritten++;
    }
  }
  const tsconfig = templateTsconfig(root) as { compilerOptions: Record<string, unknown> };
  // The template targets ES2018; this code base uses ES2022 library calls, so only lib/target move up.
  tsconfig.compilerOptions.lib = ["es2022"];
  tsconfig.compilerOptions.target = "ES2022";
  writeFileSync(join(dir, "tsconfig.json"), JSON.stringify(tsconfig, null, 2) + "\n");
  writeFileSync(
    join(dir, "package.json"),
    JSON.stringify({ name: "stock-cdktf", private: true }, null, 2) + "\n",
  );
  writeFileSync(
    join(dir, "cdktf.json"),
    JSON.stringify(
      {
        language: "typescript",
        app: "npx ts-node main.ts",
        projectId: "00000000-0000-4000-8000-000000000000",
        sendCrashReports: "false",
        terraformProviders: [],
        terraformModules: [],
        context: {},
      },
      null,
      2,
    ) + "\n",
  );
  return rewritten;
}

/** The repository's cdktf.json: the CLI runs the same fast path as `npm run synth`. */
export const CDKTF_JSON = JSON.parse(readFileSync(join(__dirname, "..", "..", "cdktf.json"), "utf8")) as {
  app: string;
};

/**
 * A project whose only file is cdktf.json with the recommended app command, run against the repository's
 * build by absolute path (the bench must not write a cdktf.json into the repository); the config comes
 * from GITLAB_OIDC_CONFIG.
 */
export function createFastProject(root: string, dir: string): void {
  mkdirSync(dir, { recursive: true });
  const app = `node ${JSON.stringify(join(root, "scripts/build.mjs"))} && node ${JSON.stringify(join(root, "dist/main.js"))}`;
  writeFileSync(
    join(dir, "cdktf.json"),
    JSON.stringify({ ...CDKTF_JSON, app, output: "cdktf.out", context: {} }, null, 2) + "\n",
  );
  writeFileSync(
    join(dir, "package.json"),
    JSON.stringify({ name: "fast-cdktf", private: true }, null, 2) + "\n",
  );
}

/** Environment for the cdktf CLI: no telemetry, update checks or plugin cache (all offline). */
export function cdktfEnv(base: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return {
    ...base,
    CHECKPOINT_DISABLE: "1",
    CDKTF_DISABLE_PLUGIN_CACHE_ENV: "1",
    DISABLE_VERSION_CHECK: "1",
    CI: "1",
    FORCE_COLOR: "0",
  };
}
