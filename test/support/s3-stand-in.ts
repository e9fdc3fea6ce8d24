/**
 * A stand-in for Amazon S3 on 127.0.0.1, enough for Terraform's S3 backend (path-style requests):
 * GetObject, HeadObject, PutObject (with the conditional `If-None-Match: *` that S3-native locking
 * uses), DeleteObject and ListObjectsV2, with S3's XML errors (Amazon S3 API Reference). Every request
 * is judged by the project's evaluator (src/iam/evaluate-access.ts) under the caller's identity policies
 * and the bucket policy, so the permissions enforced are the ones the synth generated.
 *
 * Callers are told apart by the access key ID in their SigV4 `Authorization` header (each identity of
 * the test has its own key); the signature itself is not verified: this stand-in tests authorization,
 * not authentication.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { evaluateAccess } from "../../src/iam/evaluate-access";
import type { IamDocument } from "../../src/model/state-access";

export interface S3Identity {
  /** The role the key belongs to, e.g. arn:aws:iam::222222222222:role/gitlab/platform-deployer. */
  readonly arn: string;
  readonly identityPolicies: readonly IamDocument[];
}

export interface S3Request {
  readonly principal: string | undefined;
  readonly action: string;
  readonly key: string;
  readonly status: number;
}

export interface S3StandIn {
  readonly endpoint: string;
  /** Objects by key. */
  readonly objects: Map<string, Buffer>;
  /** Every request, in order. */
  readonly requests: S3Request[];
  close(): Promise<void>;
}

export interface S3StandInOptions {
  readonly bucket: string;
  readonly bucketAccount: string;
  readonly bucketPolicy: IamDocument;
  /** Access key ID → identity. */
  readonly identities: ReadonlyMap<string, S3Identity>;
}

function xmlEscape(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
}

function error(res: ServerResponse, status: number, code: string, message: string): void {
  res.writeHead(status, { "content-type": "application/xml" });
  res.end(
    `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${xmlEscape(message)}</Message></Error>`,
  );
}

/** The body, decoded from `aws-chunked` (SigV4 streaming: `<hex size>;chunk-signature=…\r\n<data>\r\n`). */
function decodeBody(req: IncomingMessage, raw: Buffer): Buffer {
  const encoding = String(req.headers["content-encoding"] ?? "");
  const streaming = String(req.headers["x-amz-content-sha256"] ?? "").startsWith("STREAMING-");
  if (!encoding.includes("aws-chunked") && !streaming) return raw;
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const lineEnd = raw.indexOf("\r\n", at);
    if (lineEnd < 0) break;
    const size = parseInt(raw.subarray(at, lineEnd).toString("latin1").split(";")[0]!, 16);
    if (!Number.isFinite(size) || size === 0) break;
    parts.push(raw.subarray(lineEnd + 2, lineEnd + 2 + size));
    at = lineEnd + 2 + size + 2;
  }
  return Buffer.concat(parts);
}

function accessKeyOf(req: IncomingMessage): string | undefined {
  return /Credential=([A-Z0-9]+)\//.exec(String(req.headers.authorization ?? ""))?.[1];
}

export async function startS3StandIn(options: S3StandInOptions): Promise<S3StandIn> {
  const objects = new Map<string, Buffer>();
  const requests: S3Request[] = [];
  const bucketArn = `arn:aws:s3:::${options.bucket}`;

  const handle = (req: IncomingMessage, res: ServerResponse, body: Buffer): void => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const [, bucket, ...rest] = url.pathname.split("/");
    const key = decodeURIComponent(rest.join("/"));
    const method = req.method ?? "GET";
    const action =
      key === ""
        ? method === "GET"
          ? "s3:ListBucket"
          : "s3:Unsupported"
        : ((
            {
              GET: "s3:GetObject",
              HEAD: "s3:GetObject",
              PUT: "s3:PutObject",
              DELETE: "s3:DeleteObject",
            } as Record<string, string>
          )[method] ?? "s3:Unsupported");
    const identity = options.identities.get(accessKeyOf(req) ?? "");
    const record = (status: number) => requests.push({ principal: identity?.arn, action, key, status });
    if (bucket !== options.bucket) {
      record(404);
      return error(res, 404, "NoSuchBucket", `The specified bucket does not exist: ${bucket}`);
    }
    if (identity === undefined) {
      record(403);
      return error(
        res,
        403,
        "InvalidAccessKeyId",
        "The AWS access key ID you provided does not exist in our records.",
      );
    }
    if (action === "s3:Unsupported") {
      record(501);
      return error(
        res,
        501,
        "NotImplemented",
        `${method} ${url.pathname}${url.search} is not implemented by the stand-in`,
      );
    }
    const prefix = url.searchParams.get("prefix");
    const decision = evaluateAccess(
      {
        principalArn: identity.arn,
        action,
        resource: key === "" ? bucketArn : `${bucketArn}/${key}`,
        context: prefix !== null ? { "s3:prefix": prefix } : {},
      },
      {
        identityPolicies: identity.identityPolicies,
        resourcePolicy: options.bucketPolicy,
        resourceAccount: options.bucketAccount,
      },
    );
    if (!decision.allowed) {
      record(403);
      return error(
        res,
        403,
        "AccessDenied",
        `User: ${identity.arn} is not authorized to perform: ${action} on resource: ${key || bucketArn}`,
      );
    }
    if (action === "s3:ListBucket") {
      const keys = [...objects.keys()].filter((k) => k.startsWith(prefix ?? "")).sort();
      record(200);
      res.writeHead(200, { "content-type": "application/xml" });
      res.end(
        `<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>${xmlEscape(options.bucket)}</Name><Prefix>${xmlEscape(prefix ?? "")}</Prefix><KeyCount>${keys.length}</KeyCount><MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated>` +
          keys
            .map(
              (k) =>
                `<Contents><Key>${xmlEscape(k)}</Key><Size>${objects.get(k)!.length}</Size><StorageClass>STANDARD</StorageClass></Contents>`,
            )
            .join("") +
          "</ListBucketResult>",
      );
      return;
    }
    const existing = objects.get(key);
    if (method === "GET" || method === "HEAD") {
      if (existing === undefined) {
        record(404);
        if (method === "HEAD") {
          res.writeHead(404);
          res.end();
          return;
        }
        return error(res, 404, "NoSuchKey", "The specified key does not exist.");
      }
      record(200);
      res.writeHead(200, {
        "content-type": "application/octet-stream",
        "content-length": existing.length,
        etag: '"stand-in"',
      });
      res.end(method === "HEAD" ? undefined : existing);
      return;
    }
    if (method === "PUT") {
      if (req.headers["if-none-match"] === "*" && existing !== undefined) {
        record(412);
        return error(
          res,
          412,
          "PreconditionFailed",
          "At least one of the pre-conditions you specified did not hold",
        );
      }
      objects.set(key, decodeBody(req, body));
      record(200);
      res.writeHead(200, { etag: '"stand-in"' });
      res.end();
      return;
    }
    objects.delete(key);
    record(204);
    res.writeHead(204);
    res.end();
  };

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => handle(req, res, Buffer.concat(chunks)));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    objects,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
