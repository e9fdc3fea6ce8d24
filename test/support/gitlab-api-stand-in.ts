/**
 * TEST SUPPORT ONLY: a stand-in for GitLab's REST API v4 on 127.0.0.1, for `npm run resolve`'s tests.
 * It follows GitLab's API documentation where resolve depends on it (test/gitlab-api-stand-in.test.ts
 * holds it to the documented examples):
 * - `GET /projects/:id` and `GET /groups/:id` take a numeric ID or the URL-encoded full path
 *   (`acme%2Fweb`); an unencoded `/` matches no route: `{"error":"404 Not Found"}`
 *   (doc/api/rest/_index.md, "Namespaced paths");
 * - not found, or not visible to the caller: `{"message":"404 Project Not Found"}` /
 *   `{"message":"404 Group Not Found"}`; an unknown token: 401 `{"message":"401 Unauthorized"}`; a token
 *   without `read_api`/`api`: 403 `insufficient_scope` (doc/api/rest/troubleshooting.md);
 * - a renamed or transferred project's old path answers 301 with `Location: …/projects/:id`
 *   (doc/api/rest/_index.md, "Redirects");
 * - `GET /groups/:id/descendant_groups`: offset pagination (`page`, `per_page` default 20, max 100) with
 *   `Link` (prev/next/first/last), `x-page`, `x-per-page`, `x-next-page`, `x-prev-page`, `x-total`,
 *   `x-total-pages`; `all_available` false (the default for users) lists only groups the token's user is
 *   a member of, unauthenticated callers see every public group (doc/api/groups.md);
 * - 429 with `Retry-After` when throttled, plain-text `Retry later` like GitLab's Rack::Attack.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
// GitLab 18.7's list (app/models/project_ci_cd_setting.rb), the same table the config accepts.
import { SUB_CLAIM_COMPONENTS } from "../../src/model/claims";

export type Visibility = "public" | "internal" | "private";

export interface StandInGroup {
  readonly id: number;
  readonly fullPath: string;
  readonly visibility: Visibility;
  /** Users who are members (inherited by every descendant group). */
  readonly members: readonly string[];
}

export interface StandInProject {
  readonly id: number;
  readonly path: string;
  readonly namespaceId: number;
  readonly visibility: Visibility;
  /** Users with the Maintainer role: they see and may set the CI/CD settings and protected refs. */
  readonly maintainers: readonly string[];
  /** `ci_id_token_sub_claim_components` (GitLab's default when not set). */
  readonly subClaim: readonly string[];
  readonly protectedBranches: readonly string[];
  readonly protectedTags: readonly string[];
}

export interface StandInToken {
  readonly user: string;
  /** @default ["read_api"] */
  readonly scopes?: readonly string[];
}

export interface RecordedRequest {
  readonly url: string;
  readonly token?: string;
}

export interface StandInOptions {
  /** Every request needs a token (an instance that restricts the API to signed-in users). */
  readonly requireAuth?: boolean;
  /** Leave out `Link` (to exercise the `x-next-page` fallback). */
  readonly omitLinkHeader?: boolean;
  /** Leave out x-total, x-total-pages and rel="last", as GitLab does beyond 10,000 records. */
  readonly omitTotals?: boolean;
  /** Put the received token into error bodies (a hostile or buggy server). */
  readonly echoTokenInErrors?: boolean;
  /** Wait this long before answering (timeouts). */
  readonly delayMs?: number;
  /**
   * The sub claim components this GitLab accepts (app/models/project_ci_cd_setting.rb).
   * @default GitLab 18.7's: project_path, project_id, ref_type, ref, ref_protected, environment_protected, deployment_tier
   */
  readonly allowedSubClaimComponents?: readonly string[];
}

const READ_SCOPES = ["read_api", "api"];

export class GitLabApiStandIn {
  readonly requests: RecordedRequest[] = [];
  private readonly groups = new Map<number, StandInGroup>();
  private readonly projects = new Map<number, StandInProject>();
  private readonly tokens = new Map<string, StandInToken>();
  /** Old project path (lower case) → project ID, after a rename or transfer. */
  private readonly redirects = new Map<string, number>();
  /** Timers of delayed answers not yet sent (options.delayMs), cleared by close(). */
  private readonly delays = new Set<NodeJS.Timeout>();
  private nextId = 1000;
  private throttled: { count: number; retryAfter: string } = { count: 0, retryAfter: "1" };
  private failing: { count: number; status: number } = { count: 0, status: 500 };
  options: StandInOptions;
  private listeningOrigin?: string;

  private constructor(
    private readonly server: Server,
    options: StandInOptions,
  ) {
    this.options = options;
  }

  static async start(options: StandInOptions = {}): Promise<GitLabApiStandIn> {
    const server = createServer((request, response) => {
      void standIn.handle(request, response);
    });
    const standIn = new GitLabApiStandIn(server, options);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    void standIn.origin;
    return standIn;
  }

  /** `http://127.0.0.1:<port>`, fixed once listening (requests still in flight at close need it). */
  get origin(): string {
    this.listeningOrigin ??= `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.listeningOrigin;
  }

  /** The API root, for GITLAB_API_URL. */
  get apiUrl(): string {
    return `${this.origin}/api/v4`;
  }

  async close(): Promise<void> {
    // A delayed answer (options.delayMs) still waiting is dropped: its timer would keep the test's
    // process alive after the test (jest then reports a worker that "failed to exit gracefully").
    for (const timer of this.delays) clearTimeout(timer);
    this.delays.clear();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  addToken(value: string, token: StandInToken): void {
    this.tokens.set(value, token);
  }

  /** A group at `fullPath`; its parent must exist unless it is top-level. Returns its ID. */
  addGroup(
    fullPath: string,
    options: { visibility?: Visibility; members?: string[]; id?: number } = {},
  ): number {
    const id = options.id ?? this.nextId++;
    this.groups.set(id, {
      id,
      fullPath,
      visibility: options.visibility ?? "public",
      members: options.members ?? [],
    });
    return id;
  }

  /** A project at `path` in its (existing) parent group. Returns its ID. */
  addProject(
    path: string,
    options: {
      visibility?: Visibility;
      id?: number;
      maintainers?: string[];
      subClaim?: string[];
      protectedBranches?: string[];
      protectedTags?: string[];
    } = {},
  ): number {
    const namespace = this.groupByPath(path.slice(0, path.lastIndexOf("/")));
    if (!namespace) throw new Error(`stand-in: add the group of ${path} first`);
    const id = options.id ?? this.nextId++;
    this.projects.set(id, {
      id,
      path,
      namespaceId: namespace.id,
      visibility: options.visibility ?? "public",
      maintainers: options.maintainers ?? [],
      subClaim: options.subClaim ?? ["project_path", "ref_type", "ref"],
      // GitLab protects the default branch of a new project.
      protectedBranches: options.protectedBranches ?? ["main"],
      protectedTags: options.protectedTags ?? [],
    });
    return id;
  }

  /** The project's `ci_id_token_sub_claim_components` now. */
  subClaimOf(path: string): readonly string[] | undefined {
    return this.projectByPath(path)?.subClaim;
  }

  deleteProject(path: string): void {
    const project = this.projectByPath(path);
    if (project) this.projects.delete(project.id);
  }

  deleteGroup(fullPath: string): void {
    for (const group of [...this.groups.values()]) {
      if (group.fullPath === fullPath || group.fullPath.startsWith(`${fullPath}/`))
        this.groups.delete(group.id);
    }
  }

  /** Rename or transfer: the project keeps its ID, the old path redirects until someone takes it. */
  moveProject(from: string, to: string): void {
    const project = this.projectByPath(from);
    if (!project) throw new Error(`stand-in: no project ${from}`);
    const namespace = this.groupByPath(to.slice(0, to.lastIndexOf("/")));
    if (!namespace) throw new Error(`stand-in: no group for ${to}`);
    this.projects.set(project.id, { ...project, path: to, namespaceId: namespace.id });
    this.redirects.set(from.toLowerCase(), project.id);
  }

  /** The next `count` requests answer 429 with this `Retry-After`. */
  throttle(count: number, retryAfter: string): void {
    this.throttled = { count, retryAfter };
  }

  /** The next `count` requests answer `status`. */
  fail(count: number, status: number): void {
    this.failing = { count, status };
  }

  private groupByPath(path: string): StandInGroup | undefined {
    const wanted = path.toLowerCase(); // GitLab routes are case-insensitive
    return [...this.groups.values()].find((group) => group.fullPath.toLowerCase() === wanted);
  }

  private projectByPath(path: string): StandInProject | undefined {
    const wanted = path.toLowerCase();
    return [...this.projects.values()].find((project) => project.path.toLowerCase() === wanted);
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const header = request.headers["private-token"];
    const sent = typeof header === "string" ? header : undefined;
    this.requests.push({ url: request.url ?? "", token: sent });
    if (this.options.delayMs) {
      const delayMs = this.options.delayMs;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          this.delays.delete(timer);
          resolve();
        }, delayMs);
        this.delays.add(timer);
      });
    }
    const echo = this.options.echoTokenInErrors && sent ? ` (token ${sent})` : "";
    const json = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      response.writeHead(status, { "content-type": "application/json", ...headers });
      response.end(JSON.stringify(body));
    };
    const message = (status: number, text: string) => json(status, { message: `${text}${echo}` });

    if (this.throttled.count > 0) {
      this.throttled.count--;
      response.writeHead(429, { "content-type": "text/plain", "retry-after": this.throttled.retryAfter });
      response.end(`Retry later${echo}\n`);
      return;
    }
    if (this.failing.count > 0) {
      this.failing.count--;
      return message(this.failing.status, `${this.failing.status} Internal Server Error`);
    }

    let user: string | undefined;
    let scopes: readonly string[] = [];
    if (sent !== undefined) {
      const token = this.tokens.get(sent);
      if (!token) return message(401, "401 Unauthorized");
      scopes = token.scopes ?? ["read_api"];
      if (!scopes.some((scope) => READ_SCOPES.includes(scope))) {
        return json(403, {
          error: "insufficient_scope",
          error_description: `The request requires higher privileges than provided by the access token.${echo}`,
          scope: "api read_api",
        });
      }
      user = token.user;
    } else if (this.options.requireAuth) {
      return message(401, "401 Unauthorized");
    }

    const url = new URL(request.url ?? "/", this.origin);
    // Route on the raw path: an encoded %2F stays inside one segment, as in GitLab's router.
    const rawPath = (request.url ?? "/").split("?")[0];
    const segments = rawPath.split("/").slice(1);
    const [resource, id, sub, ...rest] = segments.slice(2);
    const isPut = request.method === "PUT" && resource === "projects" && sub === undefined;
    if ((request.method !== "GET" && !isPut) || segments[0] !== "api" || segments[1] !== "v4") {
      return json(404, { error: "404 Not Found" });
    }
    if (rest.length > 0 || id === undefined || id === "") return json(404, { error: "404 Not Found" });

    if (
      resource === "projects" &&
      (sub === undefined || sub === "protected_branches" || sub === "protected_tags")
    ) {
      const key = decodeURIComponent(id);
      const project = /^\d+$/.test(key) ? this.projects.get(Number(key)) : this.projectByPath(key);
      const visible = project && this.canSee(project.visibility, user, this.groups.get(project.namespaceId));
      if (project && visible && isPut) return this.updateProject(project, user, scopes, request, json);
      if (project && visible && (sub === "protected_branches" || sub === "protected_tags")) {
        // doc/api/protected_branches.md, protected_tags.md: Maintainer role needed to list them.
        if (user === undefined || !project.maintainers.includes(user)) return message(403, "403 Forbidden");
        const names = sub === "protected_branches" ? project.protectedBranches : project.protectedTags;
        return this.paginate(
          url,
          names.map((name) => ({ name })),
          response,
        );
      }
      if (project && visible && sub === undefined) return json(200, this.projectJson(project, user));
      const movedTo = this.redirects.get(key.toLowerCase());
      if (!project && movedTo !== undefined && this.projects.has(movedTo)) {
        const location = `${this.origin}/api/v4/projects/${movedTo}`;
        response.writeHead(301, { location, "content-type": "text/plain" });
        response.end(`This resource has been moved permanently to ${location}`);
        return;
      }
      return message(404, "404 Project Not Found");
    }
    if (resource === "groups") {
      const key = decodeURIComponent(id);
      const group = /^\d+$/.test(key) ? this.groups.get(Number(key)) : this.groupByPath(key);
      if (!group || !this.canSee(group.visibility, user, group)) return message(404, "404 Group Not Found");
      if (sub === undefined) return json(200, this.groupJson(group));
      if (sub === "projects" && url.searchParams.get("include_subgroups") === "true") {
        const inside = [...this.projects.values()]
          .filter((project) => {
            const namespace = this.groups.get(project.namespaceId);
            return (
              namespace !== undefined &&
              (namespace.id === group.id || namespace.fullPath.startsWith(`${group.fullPath}/`)) &&
              this.canSee(project.visibility, user, namespace)
            );
          })
          .sort((a, b) => a.id - b.id);
        return this.paginate(
          url,
          inside.map((project) => this.projectJson(project, user)),
          response,
        );
      }
      if (sub === "descendant_groups") {
        const allAvailable = url.searchParams.get("all_available") === "true";
        const below = [...this.groups.values()]
          .filter((other) => other.fullPath.startsWith(`${group.fullPath}/`))
          .filter((other) =>
            user === undefined
              ? other.visibility === "public"
              : allAvailable
                ? this.canSee(other.visibility, user, other)
                : this.isMember(user, other),
          )
          .sort((a, b) => a.fullPath.localeCompare(b.fullPath));
        return this.paginate(
          url,
          below.map((other) => this.groupJson(other)),
          response,
        );
      }
    }
    return json(404, { error: "404 Not Found" });
  }

  /** Offset pagination as doc/api/rest/_index.md describes it. */
  private paginate(url: URL, items: unknown[], response: ServerResponse): void {
    const perPage = Math.min(100, Math.max(1, Number(url.searchParams.get("per_page")) || 20));
    const page = Math.max(1, Number(url.searchParams.get("page")) || 1);
    const totalPages = Math.max(1, Math.ceil(items.length / perPage));
    const pageUrl = (n: number) => {
      const target = new URL(url);
      target.searchParams.set("page", String(n));
      target.searchParams.set("per_page", String(perPage));
      return target.href;
    };
    const links: string[] = [];
    if (page > 1) links.push(`<${pageUrl(page - 1)}>; rel="prev"`);
    if (page < totalPages) links.push(`<${pageUrl(page + 1)}>; rel="next"`);
    links.push(`<${pageUrl(1)}>; rel="first"`);
    if (!this.options.omitTotals) links.push(`<${pageUrl(totalPages)}>; rel="last"`);
    const headers: Record<string, string> = {
      "content-type": "application/json",
      "x-page": String(page),
      "x-per-page": String(perPage),
      "x-next-page": page < totalPages ? String(page + 1) : "",
      "x-prev-page": page > 1 ? String(page - 1) : "",
    };
    if (!this.options.omitTotals) {
      headers["x-total"] = String(items.length);
      headers["x-total-pages"] = String(totalPages);
    }
    if (!this.options.omitLinkHeader) headers.link = links.join(", ");
    response.writeHead(200, headers);
    response.end(JSON.stringify(items.slice((page - 1) * perPage, page * perPage)));
  }

  private isMember(user: string, group: StandInGroup): boolean {
    return [...this.groups.values()].some(
      (other) =>
        other.members.includes(user) &&
        (other.fullPath === group.fullPath || group.fullPath.startsWith(`${other.fullPath}/`)),
    );
  }

  private canSee(visibility: Visibility, user: string | undefined, group: StandInGroup | undefined): boolean {
    if (visibility === "public") return true;
    if (user === undefined) return false;
    if (visibility === "internal") return true;
    return group !== undefined && this.isMember(user, group);
  }

  /**
   * `PUT /projects/:id` with a JSON body, for `ci_id_token_sub_claim_components` only: a token with the
   * `api` scope (read_api: 403 insufficient_scope), the Maintainer role (else 403), components GitLab
   * accepts (else 400 with the validation messages).
   */
  private async updateProject(
    project: StandInProject,
    user: string | undefined,
    scopes: readonly string[],
    request: IncomingMessage,
    json: (status: number, body: unknown) => void,
  ): Promise<void> {
    if (user === undefined) return json(401, { message: "401 Unauthorized" });
    if (!scopes.includes("api")) {
      return json(403, {
        error: "insufficient_scope",
        error_description: "The request requires higher privileges than provided by the access token.",
        scope: "api",
      });
    }
    if (!project.maintainers.includes(user)) return json(403, { message: "403 Forbidden" });
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    let body: { ci_id_token_sub_claim_components?: unknown };
    try {
      body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
    } catch {
      return json(400, { error: "The provided content-type '' is not supported." });
    }
    const components = body.ci_id_token_sub_claim_components;
    if (components !== undefined) {
      const allowed = this.options.allowedSubClaimComponents ?? SUB_CLAIM_COMPONENTS;
      const list = Array.isArray(components) ? components.map(String) : [];
      const errors = [
        ...(["project_path", "project_id"].includes(list[0] ?? "")
          ? []
          : ["project_path or project_id must be the first element of the sub claim"]),
        ...list.filter((c) => !allowed.includes(c)).map((c) => `${c} is not an allowed sub claim component`),
      ];
      if (errors.length > 0) {
        return json(400, { message: { "ci_cd_settings.id_token_sub_claim_components": errors } });
      }
      this.projects.set(project.id, { ...project, subClaim: list });
    }
    return json(200, this.projectJson(this.projects.get(project.id)!, user));
  }

  private projectJson(project: StandInProject, user?: string) {
    const namespace = this.groups.get(project.namespaceId)!;
    const name = project.path.slice(project.path.lastIndexOf("/") + 1);
    return {
      id: project.id,
      name,
      path: name,
      path_with_namespace: project.path,
      visibility: project.visibility,
      web_url: `${this.origin}/${project.path}`,
      namespace: {
        id: namespace.id,
        name: namespace.fullPath.slice(namespace.fullPath.lastIndexOf("/") + 1),
        path: namespace.fullPath.slice(namespace.fullPath.lastIndexOf("/") + 1),
        kind: "group",
        full_path: namespace.fullPath,
      },
      // lib/api/entities/project.rb exposes the CI/CD settings only to those who may administer the project.
      ...(user !== undefined && project.maintainers.includes(user)
        ? { ci_id_token_sub_claim_components: project.subClaim }
        : {}),
    };
  }

  private groupJson(group: StandInGroup) {
    const parent = this.groupByPath(group.fullPath.slice(0, group.fullPath.lastIndexOf("/")));
    const name = group.fullPath.slice(group.fullPath.lastIndexOf("/") + 1);
    return {
      id: group.id,
      name,
      path: name,
      full_name: group.fullPath.split("/").join(" / "),
      full_path: group.fullPath,
      visibility: group.visibility,
      parent_id: group.fullPath.includes("/") ? (parent?.id ?? null) : null,
      web_url: `${this.origin}/groups/${group.fullPath}`,
    };
  }
}
