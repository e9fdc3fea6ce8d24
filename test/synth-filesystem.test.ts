/**
 * The synth's filesystem: it deletes only what it wrote before (its record), whatever else lives under
 * the output directory survives, and moving into place works (by rename) when the output directory is
 * a symlink to another filesystem.
 */
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Config } from "../src/config/schema";
import { synthesize, WRITTEN_FILES_RECORD } from "../src/synth";
import { minimalConfig, parse } from "./support/configs";

/** Two accounts; `only` keeps the first. */
function config(only = false): Config {
  const base = minimalConfig();
  const [production] = base.accounts as Record<string, unknown>[];
  const staging = { ...production, name: "staging", accountId: "222222222222" };
  return parse({ ...base, accounts: only ? [production] : [production, staging] });
}

let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), "gitlab-oidc-fs-"));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

describe("the synth deletes only what it wrote before", () => {
  test("a foreign file or folder anywhere under the output survives; a removed stack's own files go", () => {
    // GIVEN an output written by a synth of two stacks, and files the synth did not write beside them
    const outdir = join(root, "terraform");
    synthesize(config(), { outdir, hcl: true });
    const foreign = [
      "README.md",
      "custom/notes.tf",
      "stacks/production/override.tf",
      "stacks/staging/local-notes.md",
      "stacks/unrelated/keep.tf",
    ];
    for (const file of foreign) {
      mkdirSync(join(outdir, file, ".."), { recursive: true });
      writeFileSync(join(outdir, file), "mine\n");
    }
    // WHEN a synth without the staging stack runs, then one in JSON
    synthesize(config(true), { outdir, hcl: true });
    synthesize(config(true), { outdir, hcl: false });
    // THEN every foreign file is still there, untouched
    for (const file of foreign) expect(readFileSync(join(outdir, file), "utf8")).toBe("mine\n");
    // … staging's synthesized files are gone (its folder stays for the foreign file in it)
    expect(readdirSync(join(outdir, "stacks/staging"))).toEqual(["local-notes.md"]);
    // … and the other format's files went, the JSON stack is in place
    expect(readdirSync(join(outdir, "stacks/production")).sort()).toEqual(["cdk.tf.json", "override.tf"]);
  });

  test("the record lists exactly the files written, and a removed stack's empty folder goes", () => {
    const outdir = join(root, "out");
    synthesize(config(), { outdir, hcl: true });
    synthesize(config(true), { outdir, hcl: true });
    const record = JSON.parse(readFileSync(join(outdir, WRITTEN_FILES_RECORD), "utf8")) as {
      files: string[];
    };
    expect(record.files.sort()).toEqual(
      [
        "ACCESS.md",
        "manifest.json",
        "stacks.gitlab-ci.yml",
        "stacks/production/cdk.tf",
        "stacks/production/metadata.json",
      ].sort(),
    );
    expect(readdirSync(join(outdir, "stacks"))).toEqual(["production"]);
  });

  test("an output written before records existed is cleaned by its manifest, foreign files kept", () => {
    const outdir = join(root, "out");
    synthesize(config(), { outdir, hcl: true });
    rmSync(join(outdir, WRITTEN_FILES_RECORD));
    writeFileSync(join(outdir, "stacks/staging/mine.txt"), "mine\n");
    synthesize(config(true), { outdir, hcl: true });
    expect(readdirSync(join(outdir, "stacks/staging"))).toEqual(["mine.txt"]);
  });

  test("a record edited to name a file outside the output directory deletes nothing there", () => {
    const outdir = join(root, "out");
    synthesize(config(), { outdir, hcl: true });
    writeFileSync(join(root, "precious.txt"), "keep\n");
    writeFileSync(
      join(outdir, WRITTEN_FILES_RECORD),
      JSON.stringify({ files: ["../precious.txt", join(root, "precious.txt"), "stacks"] }),
    );
    synthesize(config(), { outdir, hcl: true });
    expect(readFileSync(join(root, "precious.txt"), "utf8")).toBe("keep\n");
    expect(existsSync(join(outdir, "stacks/production/cdk.tf"))).toBe(true);
  });
});

describe("moving into place", () => {
  test("works by rename when the output directory is a symlink to another filesystem", () => {
    // GIVEN terraform/ as a symlink to a directory on another filesystem (/dev/shm is tmpfs here)
    const elsewhere = existsSync("/dev/shm")
      ? mkdtempSync("/dev/shm/gitlab-oidc-target-")
      : join(root, "target");
    mkdirSync(elsewhere, { recursive: true });
    const crossDevice = statSync(elsewhere).dev !== statSync(root).dev;
    if (!crossDevice)
      console.warn("no second filesystem here: the symlink is followed, but not across devices");
    try {
      const outdir = join(root, "terraform");
      symlinkSync(elsewhere, outdir);
      writeFileSync(join(elsewhere, "mine.txt"), "mine\n");
      // WHEN the synth writes through the symlink (twice: the second replaces files in place)
      synthesize(config(), { outdir, hcl: true });
      synthesize(config(true), { outdir, hcl: true });
      // THEN the symlink is still a symlink, the files are in its target, and no scratch is left anywhere
      expect(lstatSync(outdir).isSymbolicLink()).toBe(true);
      expect(readdirSync(elsewhere).sort()).toEqual(
        [
          "ACCESS.md",
          "manifest.json",
          "mine.txt",
          "stacks",
          "stacks.gitlab-ci.yml",
          WRITTEN_FILES_RECORD,
        ].sort(),
      );
      expect(readdirSync(join(elsewhere, "stacks"))).toEqual(["production"]);
      expect(readdirSync(root)).toEqual(["terraform"]);
      expect(readdirSync(join(elsewhere, "..")).filter((name) => name.includes(".synth-"))).toEqual([]);
    } finally {
      rmSync(elsewhere, { recursive: true, force: true });
    }
  });
});
