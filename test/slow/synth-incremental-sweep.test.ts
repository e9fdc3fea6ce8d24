import { mkdtempSync, realpathSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Config } from "../../src/config/schema";
import type { GitLabLock } from "../../src/gitlab/lock";
import { STATE_STACK } from "../../src/model/state-access";
import type { RawConfig } from "../support/configs";
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
import {
  everyEditKind,
  perAccountAppsMatchOneApp,
  stateEditsWithExtension,
} from "../support/incremental-scenarios";

/**
 * `steps` random edits of a generated config, each followed by an incremental synth held byte-identical
 * to a full synth; `rebuilt` names the stacks a confined edit must synthesize again (all others reused).
 */
function sweep(
  { raw, lock }: { raw: RawConfig; lock: GitLabLock },
  steps: number,
  edit: () => { what: string; rebuilt?: readonly string[] },
  stacksOf: (config: Config) => string[],
): void {
  const root = realpathSync(mkdtempSync(join(tmpdir(), "gitlab-oidc-sweep-")));
  try {
    const outdir = join(root, "out");
    const cacheDir = join(root, "cache");
    incrementalSynth(parsedOrUndefined(raw, lock)!, outdir, cacheDir);
    for (let step = 0; step < steps; step++) {
      // WHEN it is edited at random and synthesized again
      const { what, rebuilt } = edit();
      const config = parsedOrUndefined(raw, lock);
      if (config === undefined) throw new Error(`the edit "${what}" made the config invalid`);
      const result = incrementalSynth(config, outdir, cacheDir);
      // THEN the output is byte-identical to a full synth, and a confined edit reused every other stack
      expect({ step, what, tree: treeOf(outdir) }).toEqual({ step, what, tree: fullSynthTree(config) });
      if (rebuilt !== undefined) {
        expect({ step, what, reused: result.reused }).toEqual({
          step,
          what,
          reused: stacksOf(config).filter((name) => !rebuilt.includes(name)),
        });
      }
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

// test/synth-incremental.test.ts's scenarios on larger configs (the unit tier runs them on the smallest).
describe("incremental synth scenarios on larger configs", () => {
  let root: string;
  beforeEach(() => (root = realpathSync(mkdtempSync(join(tmpdir(), "gitlab-oidc-sweep-")))));
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  test("each account on its own App writes the bytes of one App with every stack (3 × 8)", () => {
    perAccountAppsMatchOneApp({ accounts: 3, roles: 8 }, join(root, "out"), join(root, "cache"));
  });

  test("every kind of edit: after each, the output equals a full synth (4 × 4)", () => {
    everyEditKind({ accounts: 4, roles: 4 }, join(root, "out"), join(root, "cache"));
  });

  test("state in S3 and an extension: after each edit the output equals a full synth (3 × 4)", () => {
    stateEditsWithExtension({ accounts: 3, roles: 4 }, join(root, "out"), join(root, "cache"));
  });
});

// The breadth behind test/synth-incremental.test.ts: many more random edits, several seeds.
describe.each([1, 2, 3])("incremental synth, random edits (seed %i)", (seed) => {
  test("after each of 25 edits the output equals a full synth of the edited config", () => {
    // GIVEN a generated config synthesized with a record (the last account is never removed)
    const config = generated(5, 4);
    const random = seeded(seed);
    sweep(
      config,
      25,
      () => {
        const edit = randomEdit(config.raw, config.lock, random);
        return { what: edit.what, ...(edit.touches !== undefined ? { rebuilt: [edit.touches] } : {}) };
      },
      (c) => c.accounts.map((a) => a.name),
    );
  });
});

// The same with state in S3: the state bucket's stack, whose policy names every account's pipeline roles.
describe.each([4, 5])("incremental synth with state in S3, random edits (seed %i)", (seed) => {
  test("after each of 15 edits the output equals a full synth of the edited config", () => {
    // GIVEN a generated config with its state in S3, synthesized with a record
    const config = generated(4, 4);
    withS3State(config.raw);
    const random = seeded(seed);
    sweep(
      config,
      15,
      () => {
        const edit = randomStateEdit(config.raw, random);
        return { what: edit.what, ...(edit.stacks !== undefined ? { rebuilt: edit.stacks } : {}) };
      },
      (c) => [...c.accounts.map((a) => a.name), STATE_STACK],
    );
  });
});
