/**
 * The default audience moved from the GitLab URL to sts.amazonaws.com (component 2.0.0): an old config
 * that relied on the default is told, at synth time, what to do before its jobs' tokens are refused.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { audienceMigrationNotices, previousClientIds } from "../src/config/audience-migration";
import { problemsOf } from "./support/configs";
import { minimalConfig, parse } from "./support/configs";
import { synthesize } from "../src/synth";

const dirs: string[] = [];
afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

/** The output of a synth of `raw` (HCL), as the previous run left it. */
function synthesized(raw: ReturnType<typeof minimalConfig>): string {
  const outdir = mkdtempSync(join(tmpdir(), "audience-migration-"));
  dirs.push(outdir);
  synthesize(parse(raw), { outdir, hcl: true });
  return outdir;
}

const withAudience = (audience: unknown): ReturnType<typeof minimalConfig> => {
  const raw = minimalConfig();
  (raw.gitlab as Record<string, unknown>).audience = audience;
  return raw;
};

describe("the sts.amazonaws.com default audience", () => {
  test("a config without gitlab.audience gets sts.amazonaws.com as client ID and trust condition", () => {
    // GIVEN a config that names no audience WHEN it is synthesized
    const outdir = synthesized(minimalConfig());
    // THEN the provider accepts exactly sts.amazonaws.com
    expect(previousClientIds(outdir, ["production"]).get("production")).toEqual(["sts.amazonaws.com"]);
  });

  test("an old output that accepted the GitLab URL, with the default now: the migration message", () => {
    // GIVEN the output of the old default (the GitLab URL, written out as the old synth did)
    const before = previousClientIds(synthesized(withAudience("https://gitlab.com")), ["production"]);
    // WHEN the config without gitlab.audience is synthesized over it
    const notices = audienceMigrationNotices(parse(minimalConfig()), before);
    // THEN it says what happens and how to move without a break
    expect(notices).toHaveLength(1);
    expect(notices[0]).toContain("would stop accepting ID tokens with aud https://gitlab.com");
    expect(notices[0]).toContain("set gitlab.audience: [sts.amazonaws.com, https://gitlab.com], apply");
  });

  test("no message once the config names its audiences (during or after the move)", () => {
    const before = previousClientIds(synthesized(withAudience("https://gitlab.com")), ["production"]);
    expect(
      audienceMigrationNotices(parse(withAudience(["sts.amazonaws.com", "https://gitlab.com"])), before),
    ).toEqual([]);
    expect(audienceMigrationNotices(parse(withAudience("https://gitlab.com")), before)).toEqual([]);
    // and none for a first synth
    expect(audienceMigrationNotices(parse(minimalConfig()), new Map())).toEqual([]);
  });

  test("a role audience missing from a shared provider's client IDs: the problem says how to keep both", () => {
    // GIVEN two accounts on one AWS account, the second with provider: existing and the old audience
    const raw = minimalConfig();
    const accounts = raw.accounts as Record<string, unknown>[];
    accounts.push({
      ...accounts[0],
      name: "second",
      provider: "existing",
      roles: [
        { name: "old", audience: "https://gitlab.com", allow: [{ project: "acme/web", branches: ["main"] }] },
      ],
    });
    // THEN the problem names the list to set while jobs move
    expect(problemsOf(raw).join("\n")).toContain(
      "gitlab.audience: [sts.amazonaws.com, https://gitlab.com] while the jobs that send it move to sts.amazonaws.com",
    );
  });
});

describe("reading an earlier output's client IDs (previousClientIds)", () => {
  /** A stack file of `text` under a fresh output directory. */
  function outputWith(text: string): string {
    const outdir = mkdtempSync(join(tmpdir(), "client-ids-"));
    dirs.push(outdir);
    mkdirSync(join(outdir, "stacks", "s"), { recursive: true });
    writeFileSync(join(outdir, "stacks", "s", "cdk.tf"), text);
    return outdir;
  }
  const list = 'client_id_list = ["a", "b"]\n';

  test.each([
    ["within the first bytes read", `${list}${"#".repeat(200)}\n`],
    ["after them (the whole file is read)", `${"#".repeat(200)}\n${list}`],
    ["across their end", `${"#".repeat(40)}\n${list}${"#".repeat(200)}\n`],
    ["in a file shorter than them", list],
  ])("the first list is found %s", (_, text) => {
    // GIVEN a stack file WHEN read 64 bytes first THEN the list is the whole file's first one
    expect(previousClientIds(outputWith(text), ["s"], 64).get("s")).toEqual(["a", "b"]);
  });

  test("a later list does not stand in for the first, and a file without one has none", () => {
    const first = `${"#".repeat(30)}\nclient_id_list = ["first",\n${"#".repeat(100)}\n"x"]\nclient_id_list = ["second"]\n`;
    expect(previousClientIds(outputWith(first), ["s"], 64).get("s")).toEqual(["first", "x"]);
    expect(previousClientIds(outputWith("#".repeat(500)), ["s"], 64).has("s")).toBe(false);
  });
});
