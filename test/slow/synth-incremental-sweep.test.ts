import { mkdtempSync, realpathSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  fullSynthTree,
  generated,
  incrementalSynth,
  parsedOrUndefined,
  randomEdit,
  randomStateEdit,
  seeded,
  treeOf,
  withS3State,
} from "../support/incremental";
import { STATE_STACK } from "../../src/model/state-access";

// The breadth behind test/synth-incremental.test.ts: many more random edits, several seeds.
describe.each([1, 2, 3])("incremental synth, random edits (seed %i)", (seed) => {
  test("after each of 25 edits the output equals a full synth of the edited config", () => {
    // GIVEN a generated config synthesized with a record
    const root = realpathSync(mkdtempSync(join(tmpdir(), "gitlab-oidc-sweep-")));
    try {
      const outdir = join(root, "out");
      const cacheDir = join(root, "cache");
      const { raw, lock } = generated(5, 4);
      const random = seeded(seed);
      incrementalSynth(parsedOrUndefined(raw, lock)!, outdir, cacheDir);
      for (let step = 0; step < 25; step++) {
        // WHEN it is edited at random (the last account is never removed) and synthesized again
        const edit = randomEdit(raw, lock, random);
        const config = parsedOrUndefined(raw, lock);
        if (config === undefined) throw new Error(`the edit "${edit.what}" made the config invalid`);
        const result = incrementalSynth(config, outdir, cacheDir);
        // THEN the output is byte-identical to a full synth, and an edit inside one account reused the rest
        expect({ step, edit: edit.what, tree: treeOf(outdir) }).toEqual({
          step,
          edit: edit.what,
          tree: fullSynthTree(config),
        });
        if (edit.touches !== undefined) {
          expect(result.reused).toEqual(config.accounts.map((a) => a.name).filter((n) => n !== edit.touches));
        }
      }
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

// The same with state in S3: the state bucket's stack, whose policy names every account's pipeline roles.
describe.each([4, 5])("incremental synth with state in S3, random edits (seed %i)", (seed) => {
  test("after each of 15 edits the output equals a full synth of the edited config", () => {
    // GIVEN a generated config with its state in S3, synthesized with a record
    const root = realpathSync(mkdtempSync(join(tmpdir(), "gitlab-oidc-sweep-")));
    try {
      const outdir = join(root, "out");
      const cacheDir = join(root, "cache");
      const { raw, lock } = generated(4, 4);
      withS3State(raw);
      const random = seeded(seed);
      incrementalSynth(parsedOrUndefined(raw, lock)!, outdir, cacheDir);
      for (let step = 0; step < 15; step++) {
        // WHEN it is edited at random and synthesized again
        const edit = randomStateEdit(raw, random);
        const config = parsedOrUndefined(raw, lock);
        if (config === undefined) throw new Error(`the edit "${edit.what}" made the config invalid`);
        const result = incrementalSynth(config, outdir, cacheDir);
        // THEN the output is byte-identical to a full synth, and a confined edit reused every other stack
        expect({ step, edit: edit.what, tree: treeOf(outdir) }).toEqual({
          step,
          edit: edit.what,
          tree: fullSynthTree(config),
        });
        if (edit.stacks !== undefined) {
          const all = [...config.accounts.map((a) => a.name), STATE_STACK];
          expect(result.reused).toEqual(all.filter((name) => !edit.stacks!.includes(name)));
        }
      }
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
