// Is the HCL the same on CDK Terrain (cdktn, the maintained fork of cdktf)? Runs the main job on the
// example config with cdktn and @cdktn/provider-aws in place of cdktf and @cdktf/provider-aws
// (scripts/cdktn-alias.cjs) and compares what it writes with the committed terraform/ (cdktf's).
// Expected differences, and only these: the AWS provider's pin in `required_providers` (each provider
// package pins its own build) and the library version that manifest.json and metadata.json record.
// See docs/cdktn.md. Needs Node >= 22.11 (@cdktn/provider-aws's engines); run it with such a node.
// The packages are installed once into ${XDG_CACHE_HOME:-~/.cache}/gitlab-oidc-aws/cdktn-<versions>
// (~480 MB, ~10 s), never into the project.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { cacheDir, run, treeDifferences } from "./test-helpers.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
/** cdktn's current release, the matching provider build, and a constructs its peer range accepts (>=10.6 <10.8). */
const PACKAGES = ["cdktn@0.24.0", "@cdktn/provider-aws@25.7.0", "constructs@10.7.2"];

/** The aws entry of `required_providers`, whichever version and source the provider package pins. */
const AWS_PIN = /(aws = \{\n\s+version = )"[^"]*"(\n\s+source\s+= )"[^"]*"/g;

function installed() {
  const dir = cacheDir(`cdktn-${PACKAGES.join("-").replace(/[@/]/g, "_")}`);
  if (existsSync(join(dir, "node_modules", "cdktn"))) return join(dir, "node_modules");
  mkdirSync(dirname(dir), { recursive: true });
  const staging = mkdtempSync(`${dir}.tmp-`);
  try {
    writeFileSync(join(staging, "package.json"), '{ "private": true }\n');
    const npm = run(
      "npm",
      ["install", "--no-audit", "--no-fund", "--no-package-lock", "--save-exact", ...PACKAGES],
      {
        cwd: staging,
      },
    );
    if (npm.status !== 0) throw new Error(`npm install ${PACKAGES.join(" ")} failed:\n${npm.stderr}`);
    try {
      renameSync(staging, dir);
    } catch (error) {
      if (!existsSync(join(dir, "node_modules", "cdktn"))) throw error;
    }
    return join(dir, "node_modules");
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

const major = Number(process.versions.node.split(".")[0]);
if (major < 22) {
  console.error(`compare-cdktn: @cdktn/provider-aws needs Node >= 22.11; this is ${process.version}`);
  process.exit(2);
}
const modules = installed();
const out = mkdtempSync(join(tmpdir(), "gitlab-oidc-cdktn-"));
try {
  const synth = run(
    process.execPath,
    ["--require", join(root, "scripts/cdktn-alias.cjs"), join(root, "dist/main.js")],
    {
      cwd: root,
      env: {
        ...process.env,
        CDKTN_MODULES: modules,
        // The per-file build: the alias redirects require("cdktf"), which the bundle has inlined.
        GITLAB_OIDC_UNBUNDLED: "1",
        GITLAB_OIDC_CONFIG: join(root, "examples/basic/gitlab-oidc.yaml"),
        CDKTF_OUTDIR: out,
        SYNTH_HCL_OUTPUT: "true",
      },
    },
  );
  if (synth.status !== 0) throw new Error(`the main job failed on cdktn:\n${synth.stdout}${synth.stderr}`);
  // The alias really took effect: the manifest records the library that synthesized it.
  const used = JSON.parse(readFileSync(join(out, "manifest.json"), "utf8")).version;
  const cdktn = JSON.parse(readFileSync(join(modules, "cdktn", "package.json"), "utf8")).version;
  if (used !== cdktn) throw new Error(`the main job ran on library version ${used}, not cdktn ${cdktn}`);
  const pins = new Set();
  const normalize = (file, text) => {
    if (file === "manifest.json" || file.endsWith("/metadata.json")) return undefined;
    return text.replace(AWS_PIN, (_match, head, middle) => {
      pins.add(_match.replace(/\s+/g, " "));
      return `${head}"<pin>"${middle}"<pin>"`;
    });
  };
  const differences = treeDifferences(join(root, "examples/basic/terraform"), out, normalize);
  if (differences.length > 0) {
    console.log(`compare-cdktn: ${PACKAGES.join(", ")}: the HCL differs beyond the AWS provider pin:`);
    for (const difference of differences) console.log(`  ${difference}`);
    const diff = run("diff", ["-r", "-x", "*.json", join(root, "examples/basic/terraform"), out]);
    console.log(diff.stdout);
    process.exit(1);
  }
  console.log(
    `compare-cdktn: ${PACKAGES.join(", ")} on Node ${process.version}: terraform/ is the same apart from the AWS provider pin (${[...pins].join(" / ")})`,
  );
} finally {
  rmSync(out, { recursive: true, force: true });
}
