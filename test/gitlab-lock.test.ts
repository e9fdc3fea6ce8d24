import { LockFileError, lockPathFor, parseLock, serializeLock } from "../src/gitlab/lock";

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
      /gitlab-oidc\.lock\.yaml: projects\.acme\/web\.id: .*run npm run resolve/,
    );
  });

  test("GIVEN broken YAML WHEN parsed THEN a LockFileError, not a YAML stack trace", () => {
    expect(() => parseLock("projects: [", "l.yaml")).toThrow(/l\.yaml: not valid YAML/);
  });

  test("GIVEN a config path WHEN asked for its lock THEN the lock sits beside it", () => {
    expect(lockPathFor("gitlab-oidc.yaml")).toBe("gitlab-oidc.lock.yaml");
    expect(lockPathFor("/a/b/team.yml")).toBe("/a/b/team.lock.yaml");
  });
});
