/**
 * The GitLab API client's own rules: Retry-After and Link parsing, and where the token may go.
 */
import { GitLabApi, GitLabApiError, nextLink, redact, retryAfterMs } from "../src/gitlab/api";

const TOKEN = "glpat-unit-secret";

/** A fetch that answers from a list and records what it was asked. */
function fakeFetch(answers: (() => Response)[]) {
  const calls: { url: string; init: RequestInit }[] = [];
  const fetch = (async (url: URL | string, init: RequestInit) => {
    calls.push({ url: String(url), init });
    const answer = answers.shift();
    if (!answer) throw new Error("no more answers");
    return answer();
  }) as typeof globalThis.fetch;
  return { fetch, calls };
}

/** The error a promise rejects with; a test failure if it resolves. */
async function failureOf(promise: Promise<unknown>): Promise<Error> {
  const outcome = await promise.then(
    () => undefined,
    (error: Error) => error,
  );
  if (!outcome) throw new Error("expected a rejection");
  return outcome;
}

const page =
  (body: unknown, headers: Record<string, string> = {}) =>
  () =>
    new Response(JSON.stringify(body), {
      status: 200,
      headers: { "content-type": "application/json", ...headers },
    });

describe("Retry-After", () => {
  test("GIVEN delta-seconds THEN milliseconds", () => {
    expect(retryAfterMs("120")).toBe(120_000);
    expect(retryAfterMs(" 0 ")).toBe(0);
  });
  test("GIVEN an HTTP date THEN the time until then, never negative", () => {
    const now = Date.parse("Thu, 26 Nov 2026 20:00:00 GMT");
    expect(retryAfterMs("Thu, 26 Nov 2026 20:00:30 GMT", now)).toBe(30_000);
    expect(retryAfterMs("Thu, 26 Nov 2026 19:00:00 GMT", now)).toBe(0);
  });
  test("GIVEN nothing or garbage THEN undefined (the client's own backoff applies)", () => {
    expect(retryAfterMs(null)).toBeUndefined();
    expect(retryAfterMs("soon")).toBeUndefined();
    expect(retryAfterMs("-5")).toBeUndefined();
  });
});

describe("Link header", () => {
  test("GIVEN GitLab's documented header THEN the rel=next URL", () => {
    const link =
      '<https://gitlab.example.com/api/v4/projects/8/issues/8/notes?page=1&per_page=3>; rel="prev", <https://gitlab.example.com/api/v4/projects/8/issues/8/notes?page=3&per_page=3>; rel="next", <https://gitlab.example.com/api/v4/projects/8/issues/8/notes?page=1&per_page=3>; rel="first"';
    expect(nextLink(link)).toBe(
      "https://gitlab.example.com/api/v4/projects/8/issues/8/notes?page=3&per_page=3",
    );
  });
  test("GIVEN no next, or a rel that merely contains 'next' THEN undefined", () => {
    expect(nextLink('<https://x/a?page=1>; rel="first", <https://x/a?page=3>; rel="last"')).toBeUndefined();
    expect(nextLink('<https://x/a?page=2>; rel="nextish"')).toBeUndefined();
    expect(nextLink(null)).toBeUndefined();
  });
  test("GIVEN several relation types in one rel THEN next is found", () => {
    expect(nextLink('<https://x/a?page=2>; rel="last next"')).toBe("https://x/a?page=2");
  });
});

describe("GitLabApi", () => {
  test("GIVEN a Link to another origin WHEN paginating THEN refused before the token is sent there", async () => {
    const { fetch, calls } = fakeFetch([
      page([{ id: 2, full_path: "a/b" }], { link: '<https://evil.example.com/api/v4/x?page=2>; rel="next"' }),
    ]);
    const api = new GitLabApi({ baseUrl: "https://gitlab.example.com/api/v4", token: TOKEN, fetch });
    await expect(api.listDescendantGroups(1, "a")).rejects.toThrow(/refusing to send the token there/);
    expect(calls).toHaveLength(1);
  });

  test("GIVEN a Link outside the API root on the same origin WHEN paginating THEN refused too", async () => {
    // The fake has a second answer (a valid last page), so only the check itself can make this fail:
    // without it the page would be fetched and the listing would succeed.
    const { fetch, calls } = fakeFetch([
      page([{ id: 2, full_path: "a/b" }], {
        link: '<https://gitlab.example.com/other/x?page=2>; rel="next"',
      }),
      page([{ id: 3, full_path: "a/c" }]),
    ]);
    const api = new GitLabApi({ baseUrl: "https://gitlab.example.com/api/v4", token: TOKEN, fetch });
    const error = await failureOf(api.listDescendantGroups(1, "a"));
    expect(error).toBeInstanceOf(GitLabApiError);
    expect(error.message).toMatch(/refusing to send the token there/);
    expect(calls).toHaveLength(1);
  });

  test("GIVEN 429s with Retry-After WHEN retried THEN each wait is announced before it starts", async () => {
    const busy = () => new Response("{}", { status: 429, headers: { "retry-after": "30" } });
    const { fetch } = fakeFetch([
      busy,
      busy,
      page({ id: 7, path_with_namespace: "a/b", namespace: { id: 3 } }),
    ]);
    const events: string[] = [];
    const api = new GitLabApi({
      baseUrl: "https://gitlab.example.com/api/v4",
      token: TOKEN,
      fetch,
      sleep: async (ms) => {
        events.push(`sleep ${ms}`);
      },
      onRetry: ({ status, waitMs, attempt, maxAttempts }) =>
        events.push(`${status} wait ${waitMs} then ${attempt}/${maxAttempts}`),
    });
    expect(await api.getProject("a/b")).toMatchObject({ id: 7 });
    expect(events).toEqual([
      "429 wait 30000 then 2/4",
      "sleep 30000",
      "429 wait 30000 then 3/4",
      "sleep 30000",
    ]);
  });

  test("GIVEN any request THEN redirects are not followed, the path is encoded, the token goes as PRIVATE-TOKEN with a timeout signal", async () => {
    const { fetch, calls } = fakeFetch([page({ id: 7, path_with_namespace: "a/b.c", namespace: { id: 3 } })]);
    const api = new GitLabApi({ baseUrl: "https://gitlab.example.com/gitlab/api/v4/", token: TOKEN, fetch });
    expect(await api.getProject("a/b.c")).toEqual({ id: 7, namespaceId: 3, path: "a/b.c" });
    expect(calls[0].url).toBe("https://gitlab.example.com/gitlab/api/v4/projects/a%2Fb.c");
    expect(calls[0].init.redirect).toBe("manual");
    expect(calls[0].init.headers).toMatchObject({ "private-token": TOKEN });
    expect(calls[0].init.signal).toBeInstanceOf(AbortSignal);
  });

  test("GIVEN an error body or a network error that carries the token THEN the error message has it redacted", async () => {
    const { fetch } = fakeFetch([
      () =>
        new Response(JSON.stringify({ message: `401 Unauthorized: ${TOKEN} is revoked` }), { status: 401 }),
    ]);
    const api = new GitLabApi({ baseUrl: "https://gitlab.example.com/api/v4", token: TOKEN, fetch });
    const error = await failureOf(api.getProject("a/b"));
    expect(error.message).toMatch(/401 Unauthorized.*\[REDACTED\] is revoked/);
    expect(error.message).not.toContain(TOKEN);

    const failing = (async () => {
      throw Object.assign(new TypeError("fetch failed"), { cause: { message: `bad header ${TOKEN}` } });
    }) as typeof globalThis.fetch;
    const offline = new GitLabApi({
      baseUrl: "https://gitlab.example.com/api/v4",
      token: TOKEN,
      fetch: failing,
    });
    const networkError = await failureOf(offline.getProject("a/b"));
    expect(networkError.message).toMatch(
      /cannot reach https:\/\/gitlab\.example\.com \(bad header \[REDACTED\]\)/,
    );
  });

  test("GIVEN a pagination that never ends (the same next page again) THEN it stops with an error", async () => {
    const again = page([{ id: 2, full_path: "a/b" }], { "x-next-page": "1" });
    const { fetch } = fakeFetch([again, again]);
    const api = new GitLabApi({ baseUrl: "https://gitlab.example.com/api/v4", fetch });
    await expect(api.listDescendantGroups(1, "a")).rejects.toThrow(/pagination does not end/);
  });

  test("GIVEN an answer without a numeric id THEN an error, not a lock entry with a wrong ID", async () => {
    const { fetch } = fakeFetch([page({ id: "7", namespace: { id: 3 } })]);
    const api = new GitLabApi({ baseUrl: "https://gitlab.example.com/api/v4", fetch });
    await expect(api.getProject("a/b")).rejects.toThrow(/project a\/b: id is not a positive integer/);
  });

  test("GIVEN a plain-http API on another host, credentials or a query in the URL THEN the client refuses it", () => {
    expect(() => new GitLabApi({ baseUrl: "http://gitlab.example.com/api/v4" })).toThrow(/must use https/);
    expect(() => new GitLabApi({ baseUrl: "https://u:p@gitlab.example.com/api/v4" })).toThrow(/credentials/);
    expect(() => new GitLabApi({ baseUrl: "not a url" })).toThrow(/not a URL/);
    expect(() => new GitLabApi({ baseUrl: "http://localhost:8080/api/v4" })).not.toThrow();
  });
});

test("redact replaces every occurrence of each secret and ignores empty ones", () => {
  expect(redact(`a ${TOKEN} b ${TOKEN}`, [TOKEN, "", undefined])).toBe("a [REDACTED] b [REDACTED]");
});
