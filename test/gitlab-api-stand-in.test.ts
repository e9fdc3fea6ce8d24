/**
 * The GitLab API stand-in behaves as GitLab's REST API documentation says, so resolve's tests test
 * against GitLab and not against our own assumptions. Sources: doc/api/rest/_index.md (namespaced path
 * encoding; offset pagination and its example response for page 2 of 3, 8 items, per_page=3; the
 * `Redirects` section), doc/api/groups.md (descendant_groups, `all_available`), doc/api/projects.md.
 */
import { GitLabApiStandIn } from "./support/gitlab-api-stand-in";

let standIn: GitLabApiStandIn;
beforeAll(async () => {
  standIn = await GitLabApiStandIn.start();
  standIn.addToken("glpat-reader", { user: "reader" });
  standIn.addToken("glpat-no-scope", { user: "reader", scopes: ["read_user"] });
  standIn.addGroup("diaspora", { id: 5 });
  standIn.addProject("diaspora/diaspora", { id: 9 });
  standIn.addGroup("big", { id: 100 });
  for (let i = 1; i <= 8; i++) standIn.addGroup(`big/sub-${i}`, { id: 100 + i });
  standIn.addGroup("big/sub-1/private", { id: 200, visibility: "private", members: ["reader"] });
});
afterAll(() => standIn.close());

const get = (path: string, token?: string) =>
  fetch(`${standIn.apiUrl}${path}`, { headers: token ? { "private-token": token } : {}, redirect: "manual" });

describe("GitLab API stand-in, held to GitLab's documentation", () => {
  test("GIVEN a namespaced path WHEN URL-encoded THEN the project; WHEN not encoded THEN no route (404 Not Found)", async () => {
    const encoded = await get("/projects/diaspora%2Fdiaspora");
    expect(encoded.status).toBe(200);
    expect(await encoded.json()).toMatchObject({
      id: 9,
      path_with_namespace: "diaspora/diaspora",
      namespace: { id: 5, kind: "group", full_path: "diaspora" },
    });
    const raw = await get("/projects/diaspora/diaspora");
    expect(raw.status).toBe(404);
    expect(await raw.json()).toEqual({ error: "404 Not Found" });
  });

  test("GIVEN a path that does not exist THEN 404 with GitLab's message body", async () => {
    expect(await (await get("/projects/diaspora%2Fnope")).json()).toEqual({
      message: "404 Project Not Found",
    });
    expect(await (await get("/groups/nope")).json()).toEqual({ message: "404 Group Not Found" });
  });

  test("GIVEN an unknown token THEN 401 Unauthorized, even for a public project; a token without read_api THEN 403", async () => {
    const unknown = await get("/projects/9", "glpat-unknown");
    expect(unknown.status).toBe(401);
    expect(await unknown.json()).toEqual({ message: "401 Unauthorized" });
    const noScope = await get("/projects/9", "glpat-no-scope");
    expect(noScope.status).toBe(403);
    expect(await noScope.json()).toMatchObject({ error: "insufficient_scope" });
  });

  test("GIVEN page 2 of 8 items at per_page=3 THEN the documented headers: x-next-page 3, x-page 2, x-per-page 3, x-prev-page 1, x-total 8, x-total-pages 3, Link prev/next/first/last", async () => {
    const response = await get("/groups/100/descendant_groups?per_page=3&page=2");
    expect(response.status).toBe(200);
    const headers = Object.fromEntries(
      ["x-next-page", "x-page", "x-per-page", "x-prev-page", "x-total", "x-total-pages"].map((name) => [
        name,
        response.headers.get(name),
      ]),
    );
    expect(headers).toEqual({
      "x-next-page": "3",
      "x-page": "2",
      "x-per-page": "3",
      "x-prev-page": "1",
      "x-total": "8", // the private subgroup is invisible without a token
      "x-total-pages": "3",
    });
    const link = response.headers.get("link")!;
    for (const [rel, page] of [
      ["prev", 1],
      ["next", 3],
      ["first", 1],
      ["last", 3],
    ] as const) {
      expect(link).toMatch(new RegExp(`<[^>]*[?&]page=${page}(&[^>]*)?>; rel="${rel}"`));
    }
    expect(link).toContain(`<${standIn.apiUrl}/groups/100/descendant_groups?`);
    expect((await response.json()).map((g: { full_path: string }) => g.full_path)).toEqual([
      "big/sub-4",
      "big/sub-5",
      "big/sub-6",
    ]);
  });

  test("GIVEN the last page THEN x-next-page is empty and Link has no rel=next", async () => {
    const response = await get("/groups/100/descendant_groups?per_page=3&page=3");
    expect(response.headers.get("x-next-page")).toBe("");
    expect(response.headers.get("link")).not.toMatch(/rel="next"/);
    expect(await response.json()).toHaveLength(2);
  });

  test("GIVEN no per_page THEN 20 per page; per_page above 100 THEN 100", async () => {
    expect((await get("/groups/100/descendant_groups")).headers.get("x-per-page")).toBe("20");
    expect((await get("/groups/100/descendant_groups?per_page=500")).headers.get("x-per-page")).toBe("100");
  });

  test("GIVEN an authenticated user WHEN all_available is not set THEN only groups they are a member of; WITH all_available=true THEN every group they can see", async () => {
    const members = await (await get("/groups/100/descendant_groups", "glpat-reader")).json();
    expect(members.map((g: { id: number }) => g.id)).toEqual([200]);
    const all = await (await get("/groups/100/descendant_groups?all_available=true", "glpat-reader")).json();
    expect(all).toHaveLength(9);
  });

  test("GIVEN a moved project WHEN its old path is asked for THEN 301 with Location to the project's ID", async () => {
    standIn.addGroup("moved-from", { id: 300 });
    standIn.addGroup("moved-to", { id: 301 });
    const id = standIn.addProject("moved-from/app");
    standIn.moveProject("moved-from/app", "moved-to/app");
    const response = await get("/projects/moved-from%2Fapp");
    expect(response.status).toBe(301);
    expect(response.headers.get("location")).toBe(`${standIn.apiUrl}/projects/${id}`);
  });

  test("GIVEN throttling THEN 429 with Retry-After, then normal answers", async () => {
    standIn.throttle(1, "7");
    const throttled = await get("/projects/9");
    expect(throttled.status).toBe(429);
    expect(throttled.headers.get("retry-after")).toBe("7");
    expect((await get("/projects/9")).status).toBe(200);
  });
});
