/**
 * The incremental synth's scenarios, each taking the size of the generated config it runs on: the unit
 * tier (test/synth-incremental.test.ts) runs them on the smallest config that still exercises every
 * kind of edit, the slow tier (test/slow/synth-incremental-sweep.test.ts) on larger ones. Same steps and
 * assertions in both; only the breadth differs.
 */
import type { Extension } from "../../src/extension";
import { STATE_STACK } from "../../src/model/state-access";
import { parse } from "./configs";
import {
  EDIT_KINDS,
  fullSynthTree,
  generated,
  incrementalSynth,
  outputOf,
  parsedOrUndefined,
  policyExtension,
  randomEdit,
  randomStateEdit,
  seeded,
  STATE_EDIT_KINDS,
  treeOf,
  wholeAppStackTree,
  withS3State,
} from "./incremental";

/** A generated config's size: accounts, and roles in each. */
export interface Size {
  readonly accounts: number;
  readonly roles: number;
}

const stackFiles = (tree: Record<string, string>) =>
  Object.fromEntries(
    Object.entries(tree).filter(([file]) => file.startsWith("stacks/") || file === "manifest.json"),
  );

/** Each account on its own App writes the bytes one App with every stack wrote. */
export function perAccountAppsMatchOneApp(size: Size, outdir: string, cacheDir: string): void {
  // GIVEN a generated config of several accounts, with its lock
  const { raw, lock } = generated(size.accounts, size.roles);
  const config = parse(raw, lock);
  // WHEN it is synthesized as the main job does, and the way it was before (one App, App.synth(),
  // the generated files rendered from scratch)
  const perAccount = fullSynthTree(config);
  // THEN every stack file, the manifest and the generated files hold the same bytes
  expect(stackFiles(perAccount)).toEqual(stackFiles(wholeAppStackTree(config)));
  incrementalSynth(config, outdir, cacheDir);
  expect(outputOf(outdir)).toEqual(wholeAppStackTree(config));
}

/**
 * Every kind of edit once (roles, tags, lock IDs, shared settings, renames, reordering, removals), then
 * one random one: after each, the incremental output equals a full synth, and an edit inside one account
 * re-synthesized that account only. Needs at least 2 accounts (one is removed last).
 */
export function everyEditKind(size: Size, outdir: string, cacheDir: string): void {
  // GIVEN a generated config and a seeded sequence of edits
  const { raw, lock } = generated(size.accounts, size.roles);
  const random = seeded(25);
  incrementalSynth(parse(raw, lock), outdir, cacheDir);
  let checked = 0;
  let reusedSome = 0;
  // Every kind of edit once, then random ones, account removal (the last kind) last.
  const kinds = [...Array.from({ length: EDIT_KINDS }, (_, kind) => kind), random(EDIT_KINDS - 1)];
  for (const kind of kinds) {
    const edit = randomEdit(raw, lock, random, kind);
    const config = parsedOrUndefined(raw, lock);
    if (config === undefined) throw new Error(`the edit "${edit.what}" made the config invalid`);
    // WHEN the edited config is synthesized incrementally
    const result = incrementalSynth(config, outdir, cacheDir);
    // THEN the output is byte-identical to a full synth of it
    expect({ edit: edit.what, tree: treeOf(outdir) }).toEqual({
      edit: edit.what,
      tree: fullSynthTree(config),
    });
    // AND an edit inside one account re-synthesized that account only
    if (edit.touches !== undefined) {
      const others = config.accounts.map((a) => a.name).filter((name) => name !== edit.touches);
      expect({ edit: edit.what, reused: result.reused }).toEqual({ edit: edit.what, reused: others });
      reusedSome++;
    }
    checked++;
  }
  expect(checked).toBe(kinds.length);
  expect(reusedSome).toBeGreaterThanOrEqual(4);
}

/**
 * State in S3 (the bucket's stack names every account's pipeline roles) and an extension: every kind of
 * state edit once, then the extension added, changed, edited under and removed (the first run without
 * it reuses nothing: the extension's runs dropped the records), then more edits. Needs at least 3 roles
 * per account (a planner, a deployer and one the bucket policy does not name).
 */
export function stateEditsWithExtension(size: Size, outdir: string, cacheDir: string): void {
  // GIVEN a generated config with its state in S3, synthesized with a record
  const { raw, lock } = generated(size.accounts, size.roles);
  withS3State(raw);
  const random = seeded(26);
  incrementalSynth(parse(raw, lock), outdir, cacheDir);
  const steps: { kind?: number; extension?: Extension; reuseNone?: boolean }[] = [
    ...Array.from({ length: STATE_EDIT_KINDS }, (_, kind) => ({ kind })),
    { kind: 0, extension: policyExtension("a"), reuseNone: true },
    { extension: policyExtension("b"), reuseNone: true },
    { kind: 1, extension: policyExtension("b"), reuseNone: true },
    { kind: 0, reuseNone: true },
    { kind: 0 },
    { kind: random(STATE_EDIT_KINDS) },
  ];
  let confined = 0;
  for (const step of steps) {
    const edit =
      step.kind === undefined ? { what: "the extension changed" } : randomStateEdit(raw, random, step.kind);
    const what = `${edit.what}${step.extension ? " (with an extension)" : ""}`;
    const config = parsedOrUndefined(raw, lock);
    if (config === undefined) throw new Error(`the edit "${what}" made the config invalid`);
    // WHEN the edited config is synthesized incrementally
    const result = incrementalSynth(config, outdir, cacheDir, step.extension);
    // THEN the output is byte-identical to a full synth of it
    expect({ what, tree: treeOf(outdir) }).toEqual({
      what,
      tree: fullSynthTree(config, true, step.extension),
    });
    // AND with an extension nothing is reused; an edit confined to some stacks reused all the others
    const stacks = [...config.accounts.map((a) => a.name), STATE_STACK];
    if (step.reuseNone) expect({ what, reused: result.reused }).toEqual({ what, reused: [] });
    else if ("stacks" in edit && edit.stacks !== undefined) {
      const others = stacks.filter((name) => !edit.stacks!.includes(name));
      expect({ what, reused: result.reused }).toEqual({ what, reused: others });
      confined++;
    }
  }
  expect(confined).toBeGreaterThanOrEqual(5);
  // AND the last output is what one App with every stack writes, the generated files rendered afresh
  expect(outputOf(outdir)).toEqual(wholeAppStackTree(parse(raw, lock)));
}
