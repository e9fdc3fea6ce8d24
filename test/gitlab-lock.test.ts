import { LockFileError, lockedGroup, lockPathFor, parseLock, serializeLock } from "../src/gitlab/lock";

describe("gitlab-oidc.lock.yaml", () => {
  test("GIVEN a lock WHEN serialized and parsed back THEN it is equal, sorted and deterministic", () => {
    const lock = {
      projects: { "acme/web": { id: 1001, namespaceId: 2001 }, "acme/api": { id: 1002, namespaceId: 2001 } },
      groups: { "acme/platform": { id: 2002, descendantIds: [2004, 2003] } },
    };
    const text = serializeLock(lock);
    expect(text.indexOf('"acme/api"')).toBeLessThan(text.indexOf('"acme/web"'));
    expect(text).toContain("descendantIds: [2003, 2004]");
    const parsed = parseLock(text, "x.lock.yaml");
    expect(parsed.projects).toEqual(lock.projects);
    expect(parsed.groups["acme/platform"].descendantIds).toEqual([2003, 2004]);
    expect(serializeLock(parsed)).toBe(text);
  });

  test("GIVEN an empty lock WHEN serialized THEN it parses back to empty maps", () => {
    expect(parseLock(serializeLock({ projects: {}, groups: {} }), "x")).toEqual({ projects: {}, groups: {} });
  });

  test("GIVEN a lock with a string id WHEN parsed THEN the error names the file, the entry and the fix", () => {
    const text = 'projects:\n  "acme/web": { id: "1001", namespaceId: 2001 }\n';
    expect(() => parseLock(text, "gitlab-oidc.lock.yaml")).toThrow(LockFileError);
    expect(() => parseLock(text, "gitlab-oidc.lock.yaml")).toThrow(
      /gitlab-oidc\.lock\.yaml:2:17: projects\.acme\/web\.id: .*expected number[^]*npm run resolve rewrites it .*by hand/,
    );
  });

  test("GIVEN broken YAML WHEN parsed THEN a LockFileError, not a YAML stack trace", () => {
    expect(() => parseLock("projects: [", "l.yaml")).toThrow(/^l\.yaml:1:12: invalid YAML: /);
  });

  test("GIVEN a config path WHEN asked for its lock THEN the lock sits beside it", () => {
    expect(lockPathFor("gitlab-oidc.yaml")).toBe("gitlab-oidc.lock.yaml");
    expect(lockPathFor("/a/b/team.yml")).toBe("/a/b/team.lock.yaml");
  });

  test("GIVEN paths named like Object.prototype members WHEN parsed and serialized THEN they are entries like any other", () => {
    const text = serializeLock({
      projects: { "__proto__/web": { id: 3, namespaceId: 1 } },
      groups: Object.assign(Object.create(null) as Record<string, { id: number; descendantIds: number[] }>, {
        ["__proto__"]: { id: 1, descendantIds: [2] },
        constructor: { id: 4, descendantIds: [] },
      }),
    });
    const lock = parseLock(text, "x");
    expect(Object.keys(lock.groups).sort()).toEqual(["__proto__", "constructor"]);
    expect(lockedGroup(lock, "__proto__")).toEqual({ id: 1, descendantIds: [2] });
    expect(lockedGroup(lock, "toString")).toBeUndefined();
    expect(serializeLock(lock)).toBe(text);
  });

  test("GIVEN a bad entry under a path named __proto__ WHEN parsed THEN it is refused, not dropped", () => {
    expect(() => parseLock('groups:\n  "__proto__": { id: "x" }\n', "l.yaml")).toThrow(
      /l\.yaml:2:18: groups\.__proto__\.id: /,
    );
  });
});
