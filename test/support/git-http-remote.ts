/**
 * TEST SUPPORT ONLY: a stand-in for GitLab's git-over-HTTP on 127.0.0.1: serves the bare repositories
 * under a directory with `git http-backend` (smart HTTP, protocol v0 and v2), and, like GitLab for a
 * private project, answers 401 unless the request carries HTTP basic credentials
 * `gitlab-ci-token:<the job token>`. For the pipeline's require-head.sh, which reads the default
 * branch's head with `git ls-remote` from $CI_REPOSITORY_URL.
 */
import { spawn } from "node:child_process";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export class GitHttpRemote {
  private server?: Server;
  /** Every request, as `METHOD path?query status`, for tests that check what was asked. */
  readonly requests: string[] = [];

  /** @param root directory holding bare repositories, e.g. `<root>/acme/project.git` */
  constructor(
    private readonly root: string,
    private readonly jobToken: string,
  ) {}

  /** Starts listening on 127.0.0.1 (a free port) and returns the base URL without credentials. */
  async start(): Promise<string> {
    this.server = createServer((req, res) => this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** The clone URL GitLab gives a job in CI_REPOSITORY_URL: credentials in the URL. */
  repositoryUrl(base: string, path: string, token = this.jobToken): string {
    return base.replace("http://", `http://gitlab-ci-token:${token}@`) + `/${path}.git`;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const expected = "Basic " + Buffer.from(`gitlab-ci-token:${this.jobToken}`).toString("base64");
    if (req.headers.authorization !== expected) {
      this.requests.push(`${req.method} ${url.pathname}${url.search} 401`);
      res.writeHead(401, { "WWW-Authenticate": 'Basic realm="GitLab"' }).end("HTTP Basic: Access denied\n");
      return;
    }
    this.requests.push(`${req.method} ${url.pathname}${url.search} 200`);
    const cgi = spawn("git", ["http-backend"], {
      env: {
        PATH: process.env.PATH,
        GIT_PROJECT_ROOT: this.root,
        GIT_HTTP_EXPORT_ALL: "1",
        REQUEST_METHOD: req.method ?? "GET",
        PATH_INFO: decodeURIComponent(url.pathname),
        QUERY_STRING: url.search.replace(/^\?/, ""),
        CONTENT_TYPE: req.headers["content-type"] ?? "",
        REMOTE_USER: "gitlab-ci-token",
        REMOTE_ADDR: "127.0.0.1",
        GIT_PROTOCOL: String(req.headers["git-protocol"] ?? ""),
      },
      stdio: ["pipe", "pipe", "ignore"],
    });
    req.pipe(cgi.stdin);
    const chunks: Buffer[] = [];
    cgi.stdout.on("data", (d: Buffer) => chunks.push(d));
    cgi.on("close", () => {
      const out = Buffer.concat(chunks);
      const end = out.indexOf("\r\n\r\n");
      const headers: Record<string, string> = {};
      let status = 200;
      for (const line of out.subarray(0, Math.max(end, 0)).toString("latin1").split("\r\n")) {
        const colon = line.indexOf(":");
        if (colon < 1) continue;
        const name = line.slice(0, colon).trim();
        const value = line.slice(colon + 1).trim();
        if (name.toLowerCase() === "status") status = Number.parseInt(value, 10);
        else headers[name] = value;
      }
      res.writeHead(status, headers).end(end < 0 ? out : out.subarray(end + 4));
    });
  }
}
