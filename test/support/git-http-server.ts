/**
 * TEST SUPPORT ONLY: a git smart-HTTP server on 127.0.0.1, a few lines around `git http-backend` (git's
 * own CGI program), serving the bare repositories under one directory read-only. This is how a consumer
 * pipeline's `include: component:` reaches the component project in the tests: gitlab-ci-local runs
 * `git ls-remote` and `git clone` over the consumer's `origin` scheme, host and port. With `jobToken`
 * it answers 401 unless the request carries HTTP basic credentials `gitlab-ci-token:<jobToken>`, as
 * GitLab does for a private project's clone URL in a job (CI_REPOSITORY_URL): the pipeline's
 * require-head.sh reads the default branch's head that way.
 */
import { spawn } from "node:child_process";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

const GIT_HTTP_BACKEND = "/usr/lib/git-core/git-http-backend";

export class GitHttpServer {
  private constructor(
    private readonly server: Server,
    /** e.g. http://127.0.0.1:41234 */
    readonly url: string,
    readonly port: number,
  ) {}

  /** Serves every bare repository under `root` at http://127.0.0.1:<port>/<path relative to root>. */
  static async start(root: string, options: { jobToken?: string } = {}): Promise<GitHttpServer> {
    const credentials =
      options.jobToken === undefined
        ? undefined
        : "Basic " + Buffer.from(`gitlab-ci-token:${options.jobToken}`).toString("base64");
    const server = createServer((req, res) => {
      const url = new URL(req.url ?? "/", "http://127.0.0.1");
      if (credentials !== undefined && req.headers.authorization !== credentials) {
        res.writeHead(401, { "WWW-Authenticate": 'Basic realm="GitLab"' }).end("HTTP Basic: Access denied\n");
        return;
      }
      const cgi = spawn(GIT_HTTP_BACKEND, [], {
        env: {
          PATH: process.env.PATH ?? "/usr/bin:/bin",
          GIT_PROJECT_ROOT: root,
          GIT_HTTP_EXPORT_ALL: "1",
          GATEWAY_INTERFACE: "CGI/1.1",
          REQUEST_METHOD: req.method ?? "GET",
          PATH_INFO: decodeURIComponent(url.pathname),
          QUERY_STRING: url.search.slice(1),
          CONTENT_TYPE: req.headers["content-type"] ?? "",
          // git sends protocol v2 in this header; http-backend reads it from GIT_PROTOCOL.
          GIT_PROTOCOL: String(req.headers["git-protocol"] ?? ""),
          HTTP_CONTENT_ENCODING: String(req.headers["content-encoding"] ?? ""),
          REMOTE_ADDR: "127.0.0.1",
          REMOTE_USER: "",
        },
        stdio: ["pipe", "pipe", "ignore"],
      });
      req.pipe(cgi.stdin);
      // CGI output: headers (Status: …, Content-Type: …) up to a blank line, then the body.
      let head = Buffer.alloc(0);
      let headersDone = false;
      cgi.stdout.on("data", (chunk: Buffer) => {
        if (headersDone) {
          res.write(chunk);
          return;
        }
        head = Buffer.concat([head, chunk]);
        const end = head.indexOf("\r\n\r\n");
        if (end < 0) return;
        headersDone = true;
        let status = 200;
        for (const line of head.subarray(0, end).toString("latin1").split("\r\n")) {
          const colon = line.indexOf(":");
          const name = line.slice(0, colon).trim();
          const value = line.slice(colon + 1).trim();
          if (name.toLowerCase() === "status") status = Number.parseInt(value, 10);
          else if (name) res.setHeader(name, value);
        }
        res.writeHead(status);
        res.write(head.subarray(end + 4));
      });
      cgi.on("close", () => {
        if (!headersDone) res.writeHead(500).end("git http-backend produced no response");
        else res.end();
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", resolve);
    });
    const { port } = server.address() as AddressInfo;
    return new GitHttpServer(server, `http://127.0.0.1:${port}`, port);
  }

  /** A job's CI_REPOSITORY_URL for `path` (e.g. acme/web): the job token in the URL, as GitLab writes it. */
  repositoryUrl(path: string, jobToken: string): string {
    return `http://gitlab-ci-token:${jobToken}@127.0.0.1:${this.port}/${path}.git`;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
