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
import { OutputFilesError, synthesize, WRITTEN_FILES_RECORD } from "../src/synth";
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

  test("a record edited to name a file outside the output directory is refused, nothing deleted", () => {
    const outdir = join(root, "out");
    synthesize(config(), { outdir, hcl: true });
    writeFileSync(join(root, "precious.txt"), "keep\n");
    for (const entry of ["../precious.txt", join(root, "precious.txt"), "stacks/../../precious.txt"]) {
      writeFileSync(join(outdir, WRITTEN_FILES_RECORD), JSON.stringify({ files: [entry] }));
      expect(() => synthesize(config(true), { outdir, hcl: true })).toThrow(
        new RegExp(
          `lists ${JSON.stringify(entry).replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}, which is not a path inside`,
        ),
      );
      expect(readFileSync(join(root, "precious.txt"), "utf8")).toBe("keep\n");
    }
  });
});

describe("real paths: a symlinked folder never carries a delete or a write outside the output", () => {
  /** An output of two stacks, a victim folder beside it, and `stacks/evil` a symlink to the victim. */
  function outputWithSymlinkToVictim(victimFiles: string[]) {
    const outdir = join(root, "terraform");
    synthesize(config(), { outdir, hcl: true });
    const victim = join(root, "victim");
    mkdirSync(victim);
    for (const file of victimFiles) writeFileSync(join(victim, file), "precious\n");
    symlinkSync("../../victim", join(outdir, "stacks/evil"));
    return { outdir, victim };
  }

  test.each([
    ["a file in the symlink's target", ["important.txt"]],
    ["an empty target (no ENOTDIR trace)", []],
  ])("the record lists stacks/evil/important.txt, evil a symlink out: refused, %s survives", (_, files) => {
    // GIVEN a record that lists a file under the symlinked folder
    const { outdir, victim } = outputWithSymlinkToVictim(files);
    const before = readFileSync(join(outdir, "stacks/staging/cdk.tf"), "utf8");
    const record = JSON.parse(readFileSync(join(outdir, WRITTEN_FILES_RECORD), "utf8")) as {
      files: string[];
    };
    writeFileSync(
      join(outdir, WRITTEN_FILES_RECORD),
      JSON.stringify({ files: [...record.files, "stacks/evil/important.txt"] }),
    );
    // WHEN a synth that no longer writes that file runs
    // THEN it is refused with a message naming the entry and the symlink
    expect(() => synthesize(config(true), { outdir, hcl: true })).toThrow(OutputFilesError);
    expect(() => synthesize(config(true), { outdir, hcl: true })).toThrow(
      /refusing to delete stacks\/evil\/important\.txt .*leads outside the output directory.*symlink/,
    );
    // … nothing outside was deleted, and nothing inside moved (staging's files are still there)
    expect(readdirSync(victim)).toEqual(files);
    expect(readFileSync(join(outdir, "stacks/staging/cdk.tf"), "utf8")).toBe(before);
  });

  test("a stack folder that is a symlink out is refused for writing, nothing written there", () => {
    // GIVEN stacks/production a symlink to a folder outside the output
    const outdir = join(root, "terraform");
    synthesize(config(true), { outdir, hcl: true });
    const elsewhere = join(root, "elsewhere");
    mkdirSync(elsewhere);
    rmSync(join(outdir, "stacks/production"), { recursive: true });
    symlinkSync(elsewhere, join(outdir, "stacks/production"));
    // WHEN the synth runs THEN it refuses, and the folder outside stays empty
    expect(() => synthesize(config(true), { outdir, hcl: true })).toThrow(
      /refusing to write stacks\/production\/cdk\.tf/,
    );
    expect(readdirSync(elsewhere)).toEqual([]);
  });

  test("a symlinked folder that stays inside the output is followed", () => {
    const outdir = join(root, "terraform");
    synthesize(config(true), { outdir, hcl: true });
    mkdirSync(join(outdir, "real-production"));
    rmSync(join(outdir, "stacks/production"), { recursive: true });
    symlinkSync("../real-production", join(outdir, "stacks/production"));
    synthesize(config(true), { outdir, hcl: true });
    expect(readdirSync(join(outdir, "real-production")).sort()).toEqual(["cdk.tf", "metadata.json"]);
  });
});

describe("a record not of its shape is refused before anything moves", () => {
  test.each([
    ["truncated JSON", '{"files": ["ACCESS.md", "stac', /not valid JSON/],
    ["a list, not an object", '["ACCESS.md"]', /expected an object with a files list/],
    ["files not a list", '{"files": "ACCESS.md"}', /"files" must be a list of paths/],
    ["a number among the files", '{"files": ["ACCESS.md", 7]}', /"files" holds 7, not a path/],
    ["sources not a map", '{"files": [], "sources": ["x"]}', /"sources" must map names to digests/],
  ])("%s: a message naming the record, the output as it was", (_, text, message) => {
    // GIVEN an output of two stacks whose record is damaged
    const outdir = join(root, "out");
    synthesize(config(), { outdir, hcl: true });
    const before = readFileSync(join(outdir, "stacks/production/cdk.tf"), "utf8");
    writeFileSync(join(outdir, WRITTEN_FILES_RECORD), text);
    // WHEN a synth of one stack in JSON runs
    // THEN it is refused, naming the record and what to do
    expect(() => synthesize(config(true), { outdir, hcl: false })).toThrow(message);
    expect(() => synthesize(config(true), { outdir, hcl: false })).toThrow(/restore it from git/);
    // … and nothing moved: the HCL is still there, no JSON stack, staging kept, the record as it was
    expect(readFileSync(join(outdir, "stacks/production/cdk.tf"), "utf8")).toBe(before);
    expect(existsSync(join(outdir, "stacks/production/cdk.tf.json"))).toBe(false);
    expect(existsSync(join(outdir, "stacks/staging/cdk.tf"))).toBe(true);
    expect(readFileSync(join(outdir, WRITTEN_FILES_RECORD), "utf8")).toBe(text);
  });

  test("a manifest.json not of cdktf's shape (no record) is refused the same way", () => {
    const outdir = join(root, "out");
    synthesize(config(), { outdir, hcl: true });
    rmSync(join(outdir, WRITTEN_FILES_RECORD));
    writeFileSync(join(outdir, "manifest.json"), '{"stacks": {"x": {"workingDirectory": "../.."}}}');
    expect(() => synthesize(config(true), { outdir, hcl: true })).toThrow(
      /manifest\.json: a stack's workingDirectory/,
    );
    expect(existsSync(join(outdir, "stacks/staging/cdk.tf"))).toBe(true);
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
