/**
 * Which build `node dist/main.js` runs (src/runtime/launch.ts): the bundle, unless the config has an
 * extension (it must share the tool's modules, which a bundle inlines) or GITLAB_OIDC_UNBUNDLED asks.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bundleSource } from "../src/runtime/bundle-cache";
import { mainBuild, mainBuildFile } from "../src/runtime/launch";

let cwd: string;
beforeEach(() => {
  cwd = mkdtempSync(join(tmpdir(), "gitlab-oidc-launch-"));
  mkdirSync(join(cwd, "scratch"));
  writeFileSync(join(cwd, "gitlab-oidc.yaml"), "accounts: []\n");
  writeFileSync(join(cwd, "scratch", "try.yaml"), "accounts: []\n");
});
afterEach(() => rmSync(cwd, { recursive: true, force: true }));

test("a config without an extension runs the bundle", () => {
  // GIVEN the team's config and a scratch config, neither with an extension WHEN a run starts THEN the bundle
  expect(mainBuild({}, cwd)).toEqual({ build: "bundle" });
  expect(mainBuild({ GITLAB_OIDC_CONFIG: "scratch/try.yaml" }, cwd)).toEqual({ build: "bundle" });
  expect(mainBuildFile("/x/dist", { build: "bundle" })).toBe(join("/x/dist", "bundle", "main.js"));
});

test("the config's own extension makes it the per-file build, and only that config's", () => {
  // GIVEN an extension beside the scratch config only
  writeFileSync(join(cwd, "scratch", "try.extend.ts"), "export default {};\n");
  // WHEN runs start on either config THEN the scratch config's runs per file, saying why
  expect(mainBuild({ GITLAB_OIDC_CONFIG: "scratch/try.yaml" }, cwd)).toEqual({
    build: "unbundled",
    why: `the config has an extension, ${join("scratch", "try.extend.ts")}`,
  });
  expect(mainBuild({}, cwd)).toEqual({ build: "bundle" });
  expect(mainBuildFile("/x/dist", { build: "unbundled", why: "" })).toBe(
    join("/x/dist", "main.unbundled.js"),
  );
});

test.each([
  ["1", "unbundled"],
  ["true", "unbundled"],
  ["0", "bundle"],
  ["", "bundle"],
])("GITLAB_OIDC_UNBUNDLED=%j runs the %s build", (setting, build) => {
  expect(mainBuild({ GITLAB_OIDC_UNBUNDLED: setting }, cwd).build).toBe(build);
});

describe("bundleSource: a bundle's text", () => {
  test("GIVEN an ASCII file (as esbuild writes) or one with other characters THEN the text UTF-8 decoding gives", () => {
    const dir = mkdtempSync(join(tmpdir(), "gitlab-oidc-bundle-source-"));
    try {
      for (const text of ['module.exports = "a\\u00e9";\n', 'module.exports = "aé → ✓ \u{1F600}";\n', ""]) {
        const file = join(dir, "bundle.js");
        writeFileSync(file, text, "utf8");
        expect(bundleSource(file)).toBe(text);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
