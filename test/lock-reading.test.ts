/**
 * The lock is read like the config: the same size, depth and alias limits, forbidden keys judged on the
 * parsed key, every problem at once with its line and the fix, and its problems reported in one pass
 * with the config's (a path the lock lacks once, however many grants name it).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { loadConfigFile } from "../src/config/load";
import { ConfigError } from "../src/config/rules";
import { YAML_LIMITS } from "../src/config/yaml-document";
import { LockFileError, lockSchema, parseLock, readLockFor } from "../src/gitlab/lock";
import { minimalConfig } from "./support/configs";

let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), "gitlab-oidc-lock-"));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

/** The message of parsing `text` as a lock (fails the test if it is accepted or throws anything else). */
function lockRefusal(text: string): string {
  try {
    parseLock(text, "l.lock.yaml");
  } catch (error) {
    if (error instanceof LockFileError) return error.message;
    throw error;
  }
  throw new Error("the lock was accepted");
}

/** The report of loading config `raw` beside a lock with `lockText` (fails unless a ConfigError). */
function loadRefusal(raw: Record<string, unknown>, lockText?: string): string {
  const file = join(root, "gitlab-oidc.yaml");
  writeFileSync(file, stringify(raw));
  if (lockText !== undefined) writeFileSync(join(root, "gitlab-oidc.lock.yaml"), lockText);
  try {
    loadConfigFile(file);
  } catch (error) {
    if (error instanceof ConfigError) return error.message;
    throw error;
  }
  throw new Error("the config was accepted");
}

describe("the lock is read with the config's limits", () => {
  test("aliases that expand without bound are refused", () => {
    const laughs = `projects: {}\ngroups: {}\na: &a [x, x, x, x, x, x, x, x, x, x]\n${Array.from(
      { length: 6 },
      (_, i) =>
        `b${i}: &b${i} [${Array(10)
          .fill(i === 0 ? "*a" : `*b${i - 1}`)
          .join(", ")}]`,
    ).join("\n")}\n`;
    expect(lockRefusal(laughs)).toMatch(/aliases/);
  });

  test("a document nested deeper than the limit is refused with a message, not a stack overflow", () => {
    expect(lockRefusal(`projects: ${"[".repeat(10_000)}${"]".repeat(10_000)}\n`)).toMatch(
      new RegExp(`nests deeper than ${YAML_LIMITS.maxDepth} levels`),
    );
  });

  test("a lock over the size limit is refused", () => {
    const huge = `# ${"x".repeat(YAML_LIMITS.maxBytes)}\nprojects: {}\n`;
    expect(lockRefusal(huge)).toMatch(/over the 16 MiB a lock may have/);
  });

  test.each([
    ['"_\\x5fproto__": { polluted: true }\nprojects: {}\n', "__proto__"],
    ['projects:\n  "acme/web": { id: 1, namespaceId: 2, "constructor": 3 }\n', "constructor"],
    ['projects: {}\ngroups:\n  "acme/x": { id: 1, descendantIds: [], "pro\\x74otype": 1 }\n', "prototype"],
  ])("a forbidden key in a field position, however spelled, is refused by name (%#)", (text, key) => {
    expect(lockRefusal(text)).toMatch(
      new RegExp(`^l\\.lock\\.yaml:\\d+:\\d+: a key named "${key}" is not allowed`, "m"),
    );
  });

  test("every bad entry is reported at once, with its line, and the fix said once", () => {
    const text = [
      "projects:",
      '  "acme/web": { id: "1001", namespaceId: 2001 }',
      '  "acme/api": { id: 1002 }',
      "groups:",
      '  "acme/platform": { id: 0, descendantIds: [] }',
      "",
    ].join("\n");
    const message = lockRefusal(text);
    expect(message).toMatch(/^l\.lock\.yaml:2:\d+: projects\.acme\/web\.id: .*expected number/m);
    expect(message).toMatch(/^l\.lock\.yaml:3:\d+: projects\.acme\/api\.namespaceId: /m);
    expect(message).toMatch(/^l\.lock\.yaml:5:\d+: groups\.acme\/platform\.id: /m);
    expect(message.match(/npm run resolve rewrites it/g)).toHaveLength(1);
    expect(message).toContain("by hand");
  });

  test("a lock path that is a directory is a message, not an EISDIR trace", () => {
    mkdirSync(join(root, "gitlab-oidc.lock.yaml"));
    expect(() => readLockFor(join(root, "gitlab-oidc.yaml"))).toThrow(/is a directory, not a lock file/);
    const report = loadRefusal(minimalConfig());
    expect(report).toMatch(/gitlab-oidc\.lock\.yaml: is a directory, not a lock file/);
    expect(report).not.toMatch(/EISDIR|^\s+at /m);
  });
});

describe("one pass: the config's problems and the lock's in one report, each once", () => {
  test("a schema problem and a broken lock are reported together (no 'not in the lock' noise)", () => {
    // GIVEN a config with a shape error and a lock with a bad entry
    const raw = minimalConfig({ maxSessionDuration: "long" });
    const report = loadRefusal(raw, 'projects:\n  "acme/web": { id: -1, namespaceId: 2 }\n');
    // THEN both are in the one report, each with its file and line
    expect(report).toMatch(/gitlab-oidc\.yaml:\d+:\d+: accounts\[0\]\.roles\[0\]\.maxSessionDuration: /m);
    expect(report).toMatch(/gitlab-oidc\.lock\.yaml:2:\d+: projects\.acme\/web\.id: /);
    expect(report).not.toMatch(/is not in the lock file/);
  });

  test("a path missing from the lock is one problem, however many grants name it", () => {
    // GIVEN six grants of one project the lock does not have
    const allow = ["main", "dev", "a", "b", "c", "d"].map((branch) => ({
      project: "acme/web",
      branches: [branch],
    }));
    const report = loadRefusal(minimalConfig({ allow }), "projects: {}\ngroups: {}\n");
    // THEN one line says so, with the count of the others and the fix
    expect(report.match(/acme\/web is not in the lock file/g)).toHaveLength(1);
    expect(report).toMatch(
      /allow\[0\]\.project: project acme\/web is not in the lock file.*npm run resolve.*\(5 more grants name it\)/,
    );
  });
});

describe("the common entries are read without zod, to the same result", () => {
  test("every entry reads as zod reads it, in the same key order; anything else is zod's to refuse", () => {
    // GIVEN entries of the common shape (any key order) and entries only zod may judge
    const valid = {
      projects: { "a/b": { namespaceId: 2, id: 1 }, "a/c": { id: 3, namespaceId: 4 } },
      groups: { a: { id: 5 }, "a/d": { descendantIds: [6, 7], id: 8 }, "a/e": { id: 9, descendantIds: [] } },
    };
    // WHEN the lock is read
    const read = parseLock(stringify(valid), "lock.yaml");
    // THEN it is what zod makes of it, key order included (the stacks' input hash sees the order)
    expect(JSON.stringify(read)).toBe(JSON.stringify(lockSchema.parse(valid)));
    // AND entries off the common shape are refused with zod's reasons
    for (const entry of [
      { id: 1, namespaceId: 2, extra: 3 },
      { id: 0, namespaceId: 2 },
      { id: 1.5, namespaceId: 2 },
      { id: "1", namespaceId: 2 },
      { id: 1 },
      { id: 2 ** 53, namespaceId: 2 },
    ]) {
      expect(() => parseLock(stringify({ projects: { "a/b": entry } }), "lock.yaml")).toThrow(LockFileError);
    }
    for (const entry of [
      { id: 1, descendantIds: [0] },
      { id: 1, descendantIds: 2 },
      { id: 1, other: [] },
    ]) {
      expect(() => parseLock(stringify({ groups: { a: entry } }), "lock.yaml")).toThrow(LockFileError);
    }
  });
});
