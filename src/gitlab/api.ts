/**
 * A small GitLab REST API v4 client on Node's `fetch`, for the four reads `npm run resolve` needs.
 * Every failure becomes a GitLabApiError that says what went wrong in words a user can act on; the
 * token is sent only to the API's own origin and never appears in an error.
 */

export interface GitLabApiProps {
  /** The API root, e.g. `https://gitlab.example.com/api/v4` (no trailing slash needed). */
  readonly baseUrl: string;
  /**
   * A personal, group or project access token with `read_api`, sent as `PRIVATE-TOKEN`.
   * @default none: only public projects and groups are visible
   */
  readonly token?: string;
  /**
   * How long one request may take, in milliseconds, before it is abandoned.
   * @default 15000
   */
  readonly timeoutMs?: number;
  /**
   * How often a request answered with 429 or 5xx is tried again.
   * @default 3
   */
  readonly maxRetries?: number;
  /**
   * The longest wait for a `Retry-After` GitLab asks for, in milliseconds; a longer one fails at once.
   * @default 60000
   */
  readonly maxRetryWaitMs?: number;
  /**
   * The first backoff after a 5xx (or a 429 without `Retry-After`), doubled on each retry.
   * @default 1000
   */
  readonly backoffMs?: number;
  /**
   * The `fetch` to use (tests).
   * @default globalThis.fetch
   */
  readonly fetch?: typeof fetch;
  /**
   * How to wait between retries (tests).
   * @default setTimeout
   */
  readonly sleep?: (ms: number) => Promise<void>;
  /**
   * Called before each wait for a retry, so a run that waits (up to maxRetryWaitMs) shows why.
   * @default nothing is reported
   */
  readonly onRetry?: (retry: RetryNotice) => void;
}

/** A retry about to wait: for what, why, how long, and which attempt comes next. */
export interface RetryNotice {
  readonly what: string;
  readonly status: number;
  readonly waitMs: number;
  /** The attempt after the wait (2 for the first retry), of maxAttempts. */
  readonly attempt: number;
  readonly maxAttempts: number;
}

/** What went wrong, in the categories a user fixes differently. */
export type GitLabApiFailure =
  | "unauthorized" // 401: the token is wrong, expired or revoked
  | "forbidden" // 403: the token lacks the scope or the role
  | "not-found" // 404: no such path, or not visible to this token
  | "moved" // 301/302/307/308: the path was renamed or transferred; GitLab redirects the old path
  | "rate-limited" // 429 after every retry, or a Retry-After longer than we wait
  | "server" // 5xx after every retry, or a reply that is not what the API documents
  | "network" // no connection
  | "timeout"; // no answer in time

export class GitLabApiError extends Error {
  constructor(
    readonly failure: GitLabApiFailure,
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = "GitLabApiError";
  }
}

export interface GitLabProject {
  readonly id: number;
  readonly namespaceId: number;
  /** The path as GitLab spells it (`path_with_namespace`): the `project_path` of the project's tokens. */
  readonly path: string;
  /**
   * `ci_id_token_sub_claim_components`, when GitLab shows it: only to users who may administer the
   * project (Maintainer), so undefined means "not visible to this token", not "default".
   */
  readonly subClaimComponents?: readonly string[];
}

/** A protected branch or tag: a name or a wildcard pattern (`*`), as GitLab lists them. */
export interface ProtectedRef {
  readonly name: string;
}

export interface GitLabGroup {
  readonly id: number;
  /** `full_path` as GitLab spells it. */
  readonly path: string;
}

const PER_PAGE = 100;
/** 1,000 pages of 100: far more descendant groups than any instance has; a loop guard, not a limit. */
const MAX_PAGES = 1000;

/** Replaces every occurrence of each secret in `text`, so no message or file can carry a token. */
export function redact(text: string, secrets: readonly (string | undefined)[]): string {
  return secrets.reduce<string>(
    (result, secret) => (secret && secret.length > 0 ? result.split(secret).join("[REDACTED]") : result),
    text,
  );
}

/** `Retry-After` as milliseconds to wait: delta-seconds or an HTTP date (RFC 9110 §10.2.3). */
export function retryAfterMs(value: string | null, now: number = Date.now()): number | undefined {
  if (value === null || value.trim() === "") return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  // HTTP dates (IMF-fixdate and the two obsolete forms) all start with a day name.
  const date = /^[A-Za-z]{3}/.test(trimmed) ? Date.parse(trimmed) : NaN;
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** The `rel="next"` target of a `Link` header (RFC 8288), if any. */
export function nextLink(link: string | null): string | undefined {
  if (!link) return undefined;
  for (const part of link.split(",")) {
    const match = /^\s*<([^>]*)>(.*)$/.exec(part);
    if (!match) continue;
    const rels = match[2]
      .split(";")
      .map((param) => /^\s*rel\s*=\s*"?([^"]*)"?\s*$/i.exec(param)?.[1])
      .find((value) => value !== undefined);
    if (rels?.toLowerCase().split(/\s+/).includes("next")) return match[1];
  }
  return undefined;
}

export class GitLabApi {
  private readonly base: URL;
  private readonly token?: string;
  private readonly timeoutMs: number;
  private readonly maxRetries: number;
  private readonly maxRetryWaitMs: number;
  private readonly backoffMs: number;
  private readonly fetch: typeof fetch;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly onRetry: ((retry: RetryNotice) => void) | undefined;

  constructor(props: GitLabApiProps) {
    let base: URL;
    try {
      base = new URL(props.baseUrl.replace(/\/+$/, ""));
    } catch {
      throw new Error(
        `the GitLab API URL "${props.baseUrl}" is not a URL; use e.g. https://gitlab.com/api/v4`,
      );
    }
    if (base.protocol !== "https:" && !(base.protocol === "http:" && isLoopback(base.hostname))) {
      throw new Error(
        `the GitLab API URL ${base.origin} must use https:// (http:// only for 127.0.0.1 or localhost, so a token never crosses a network in clear text)`,
      );
    }
    if (base.search || base.hash || base.username || base.password) {
      throw new Error(`the GitLab API URL must not have credentials, a query or a fragment`);
    }
    this.base = base;
    this.token = props.token || undefined;
    this.timeoutMs = props.timeoutMs ?? 15_000;
    this.maxRetries = props.maxRetries ?? 3;
    this.maxRetryWaitMs = props.maxRetryWaitMs ?? 60_000;
    this.backoffMs = props.backoffMs ?? 1000;
    this.fetch = props.fetch ?? globalThis.fetch;
    this.sleep = props.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.onRetry = props.onRetry;
  }

  /** The API root requests go to, for messages. */
  get baseUrl(): string {
    return this.base.href;
  }

  /** `GET /projects/:path`. */
  async getProject(path: string): Promise<GitLabProject> {
    const body = await this.getJson(`/projects/${encodeURIComponent(path)}`, `project ${path}`);
    return projectOf(body, path);
  }

  /**
   * `PUT /projects/:id` with `ci_id_token_sub_claim_components` (Maintainer, a token with the `api`
   * scope); returns the project as GitLab saved it.
   */
  async setSubClaimComponents(
    projectId: number,
    projectPath: string,
    components: readonly string[],
  ): Promise<GitLabProject> {
    const what = `setting the sub claim components of project ${projectPath}`;
    const response = await this.request(this.url(`/projects/${projectId}`), what, {
      method: "PUT",
      body: JSON.stringify({ ci_id_token_sub_claim_components: components }),
    });
    return projectOf(await readJson(response, what), projectPath);
  }

  /** `GET /projects/:id/protected_branches` or `/protected_tags`, every page. */
  async listProtectedRefs(
    projectId: number,
    projectPath: string,
    kind: "branches" | "tags",
  ): Promise<ProtectedRef[]> {
    const what = `protected ${kind} of ${projectPath}`;
    const entries = await this.listAll(
      `/projects/${projectId}/protected_${kind}?per_page=${PER_PAGE}&page=1`,
      what,
    );
    return entries.map((entry) => {
      const name = (entry as { name?: unknown })?.name;
      if (typeof name !== "string") throw new GitLabApiError("server", `${what}: an entry has no name`);
      return { name };
    });
  }

  /** `GET /groups/:id/projects?include_subgroups=true`, the first `limit` (one page): a sample. */
  async sampleGroupProjects(groupId: number, groupPath: string, limit: number): Promise<GitLabProject[]> {
    const what = `projects of ${groupPath}`;
    const body = await this.getJson(
      `/groups/${groupId}/projects?include_subgroups=true&archived=false&order_by=last_activity_at&per_page=${limit}&page=1`,
      what,
    );
    if (!Array.isArray(body)) {
      throw new GitLabApiError("server", `${what}: GitLab answered with something other than a list`);
    }
    return body.map((entry) => projectOf(entry, `${groupPath}/…`));
  }

  /** Every page of a list endpoint. */
  private async listAll(pathAndQuery: string, what: string): Promise<unknown[]> {
    const items: unknown[] = [];
    let url: URL | undefined = this.url(pathAndQuery);
    const seen = new Set<string>();
    while (url) {
      if (seen.has(url.href) || seen.size >= MAX_PAGES) {
        throw new GitLabApiError("server", `${what}: GitLab's pagination does not end (page ${url.href})`);
      }
      seen.add(url.href);
      const response = await this.request(url, what);
      const body = await readJson(response, what);
      if (!Array.isArray(body)) {
        throw new GitLabApiError("server", `${what}: GitLab answered with something other than a list`);
      }
      items.push(...(body as unknown[]));
      url = this.nextPage(response, url, what);
    }
    return items;
  }

  /** `GET /groups/:path` (without the deprecated project list). */
  async getGroup(path: string): Promise<GitLabGroup> {
    const body = await this.getJson(
      `/groups/${encodeURIComponent(path)}?with_projects=false`,
      `group ${path}`,
    );
    const group = body as { id?: unknown; full_path?: unknown };
    return {
      id: positiveId(group.id, `group ${path}: id`),
      path: typeof group.full_path === "string" ? group.full_path : path,
    };
  }

  /**
   * `GET /groups/:id/descendant_groups`, every page. `all_available=true`: without it GitLab lists only
   * the groups the token's user is a member of, and a subgroup the user merely can see would be missed.
   */
  async listDescendantGroups(groupId: number, groupPath: string): Promise<GitLabGroup[]> {
    const what = `descendant groups of ${groupPath}`;
    const entries = await this.listAll(
      `/groups/${groupId}/descendant_groups?all_available=true&per_page=${PER_PAGE}&page=1`,
      what,
    );
    return (entries as { id?: unknown; full_path?: unknown }[]).map((entry) => ({
      id: positiveId(entry?.id, `${what}: id`),
      path: typeof entry?.full_path === "string" ? entry.full_path : `(id ${String(entry?.id)})`,
    }));
  }

  /** The next page: the `Link` header's `rel="next"` when there is one, else `x-next-page`. */
  private nextPage(response: Response, current: URL, what: string): URL | undefined {
    const link = nextLink(response.headers.get("link"));
    if (link !== undefined) {
      let next: URL;
      try {
        next = new URL(link, current);
      } catch {
        throw new GitLabApiError("server", `${what}: GitLab's Link header has an invalid next URL`);
      }
      // The token goes with every request: never to another origin or outside the API.
      if (next.origin !== this.base.origin || !next.pathname.startsWith(this.base.pathname)) {
        throw new GitLabApiError(
          "server",
          `${what}: the next page's link points outside ${this.base.href} (${next.origin}); refusing to send the token there`,
        );
      }
      return next;
    }
    const nextPage = response.headers.get("x-next-page")?.trim();
    if (!nextPage) return undefined;
    if (!/^\d+$/.test(nextPage)) {
      throw new GitLabApiError("server", `${what}: GitLab's x-next-page header is not a page number`);
    }
    const next = new URL(current);
    next.searchParams.set("page", nextPage);
    return next;
  }

  private url(pathAndQuery: string): URL {
    // Appending keeps the encoded path as is (new URL(relative, base) would drop the base's path).
    return new URL(this.base.href.replace(/\/$/, "") + pathAndQuery);
  }

  private async getJson(pathAndQuery: string, what: string): Promise<unknown> {
    const response = await this.request(this.url(pathAndQuery), what);
    return readJson(response, what);
  }

  /**
   * One request (a GET unless `write` says otherwise) with a timeout; retried on 429 and 5xx (a PUT of
   * the same settings is idempotent); any other non-2xx becomes a GitLabApiError.
   */
  private async request(
    url: URL,
    what: string,
    write?: { readonly method: "PUT"; readonly body: string },
  ): Promise<Response> {
    for (let attempt = 0; ; attempt++) {
      let response: Response;
      try {
        response = await this.fetch(url, {
          ...(write ? { method: write.method, body: write.body } : {}),
          headers: {
            accept: "application/json",
            ...(write ? { "content-type": "application/json" } : {}),
            ...(this.token ? { "private-token": this.token } : {}),
          },
          // A redirect would carry PRIVATE-TOKEN to wherever it points; a moved path is reported instead.
          redirect: "manual",
          signal: AbortSignal.timeout(this.timeoutMs),
        });
      } catch (error) {
        throw this.transportError(error, what);
      }
      if (response.ok) return response;
      const retryable = response.status === 429 || response.status >= 500;
      if (!retryable || attempt >= this.maxRetries) throw await this.statusError(response, what);
      const asked = retryAfterMs(response.headers.get("retry-after"));
      const wait = asked ?? this.backoffMs * 2 ** attempt;
      if (wait > this.maxRetryWaitMs) throw await this.statusError(response, what, wait);
      await response.body?.cancel();
      this.onRetry?.({
        what,
        status: response.status,
        waitMs: wait,
        attempt: attempt + 2,
        maxAttempts: this.maxRetries + 1,
      });
      await this.sleep(wait);
    }
  }

  private transportError(error: unknown, what: string): GitLabApiError {
    const name = (error as Error)?.name;
    if (name === "TimeoutError" || name === "AbortError") {
      return new GitLabApiError(
        "timeout",
        `${what}: no answer from ${this.base.origin} within ${this.timeoutMs / 1000} s`,
      );
    }
    const cause = (error as { cause?: { code?: string; message?: string } })?.cause;
    const reason = cause?.code ?? cause?.message ?? (error as Error)?.message ?? String(error);
    return new GitLabApiError("network", this.clean(`${what}: cannot reach ${this.base.origin} (${reason})`));
  }

  private async statusError(response: Response, what: string, wait?: number): Promise<GitLabApiError> {
    const status = response.status;
    const said = this.clean(await gitlabMessage(response));
    const detail = said ? ` ("${said}")` : "";
    if (status === 401) {
      return new GitLabApiError("unauthorized", `${what}: GitLab answered 401 Unauthorized${detail}`, status);
    }
    if (status === 403) {
      return new GitLabApiError("forbidden", `${what}: GitLab answered 403 Forbidden${detail}`, status);
    }
    if (status === 404) {
      return new GitLabApiError("not-found", `${what}: GitLab answered 404 Not Found${detail}`, status);
    }
    if ([301, 302, 303, 307, 308].includes(status)) {
      const location = response.headers.get("location");
      const movedTo = location ? /\/(?:projects|groups)\/(\d+)\/?$/.exec(location)?.[1] : undefined;
      return new GitLabApiError(
        "moved",
        `${what}: GitLab answered ${status}: the path has moved${movedTo ? ` (it now redirects to ID ${movedTo})` : ""}`,
        status,
      );
    }
    if (status === 429) {
      const waited =
        wait !== undefined
          ? `GitLab asks to wait ${Math.ceil(wait / 1000)} s, longer than ${this.maxRetryWaitMs / 1000} s`
          : `still rate limited after ${this.maxRetries} retries`;
      return new GitLabApiError(
        "rate-limited",
        `${what}: GitLab answered 429 Too Many Requests (${waited})`,
        status,
      );
    }
    return new GitLabApiError(
      "server",
      `${what}: GitLab answered ${status}${detail}${status >= 500 ? ` after ${this.maxRetries} retries` : ""}`,
      status,
    );
  }

  /** Strips the token from anything the server or the runtime said. */
  private clean(text: string): string {
    return redact(text, [this.token]);
  }
}

function isLoopback(hostname: string): boolean {
  return hostname === "localhost" || hostname === "[::1]" || /^127\.\d+\.\d+\.\d+$/.test(hostname);
}

async function readJson(response: Response, what: string): Promise<unknown> {
  try {
    return await response.json();
  } catch {
    throw new GitLabApiError("server", `${what}: GitLab's answer is not JSON (is the API URL right?)`);
  }
}

/** GitLab's error bodies are `{"message": …}` or `{"error": …}`; a short, single-line excerpt of it. */
async function gitlabMessage(response: Response): Promise<string> {
  let text: string;
  try {
    text = await response.text();
  } catch {
    return "";
  }
  let said: unknown = text;
  try {
    const body = JSON.parse(text) as { message?: unknown; error?: unknown };
    said = body.message ?? body.error ?? text;
  } catch {
    // not JSON: keep the text
  }
  const line = (typeof said === "string" ? said : JSON.stringify(said)).replace(/\s+/g, " ").trim();
  return line.length > 160 ? `${line.slice(0, 157)}...` : line;
}

/** A project entity of GitLab's answer (`GET /projects/:id`, list endpoints, `PUT /projects/:id`). */
function projectOf(body: unknown, path: string): GitLabProject {
  const project = body as {
    id?: unknown;
    path_with_namespace?: unknown;
    namespace?: { id?: unknown };
    ci_id_token_sub_claim_components?: unknown;
  };
  const components = project?.ci_id_token_sub_claim_components;
  return {
    id: positiveId(project?.id, `project ${path}: id`),
    namespaceId: positiveId(project?.namespace?.id, `project ${path}: namespace.id`),
    path: typeof project?.path_with_namespace === "string" ? project.path_with_namespace : path,
    ...(Array.isArray(components) && components.every((c) => typeof c === "string")
      ? { subClaimComponents: components as string[] }
      : {}),
  };
}

function positiveId(value: unknown, what: string): number {
  if (typeof value === "number" && Number.isSafeInteger(value) && value > 0) return value;
  throw new GitLabApiError("server", `${what} is not a positive integer in GitLab's answer`);
}
