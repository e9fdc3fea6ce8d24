/**
 * TEST SUPPORT ONLY: a local stand-in for AWS STS on 127.0.0.1, for the aws-credentials component's
 * end-to-end tests. It
 * - plays the GitLab side too: signs RS256 ID tokens with a key pair generated per run (kept in memory;
 *   node:crypto, since jose 6 is ESM-only and this Jest setup loads CommonJS),
 *   with issuer = the stacks' provider URL (https://gitlab.com) although it serves on 127.0.0.1;
 * - answers AssumeRoleWithWebIdentity like STS: verifies signature, issuer, audience (a client ID of the
 *   stack's OIDC provider) and expiry, then evaluates the trust policy THIS PROJECT SYNTHESIZED for the
 *   role (terraform/ read back by readSynthesizedStacks) with the project's one IAM evaluator;
 * - answers GetCallerIdentity for the credentials it issued (the SigV4 signature is not verified: the
 *   access key id is read from the Authorization header);
 * - answers AssumeRole (role chaining: a profile with source_profile) for those credentials by evaluating
 *   the target role's trust policy against the calling role's ARN: the synthesized roles trust only the
 *   OIDC provider, so chaining into them is denied; roles managed elsewhere (`externalRoles`, as an
 *   account's deployRoleArn is) are judged by the project's access evaluator (src/iam/evaluate-access.ts),
 *   with no identity policies of the caller: a trust policy naming the calling role in its own account
 *   allows; a cross-account chain, which would also need the caller's identity policies, is denied;
 * - can inject transient failures (IDPCommunicationError, Throttling, 5xx, dropped connections).
 * Formats follow STS's query protocol (form-encoded POST in, XML out; errors as ErrorResponse).
 */
import { randomBytes, randomUUID, sign, verify, type KeyObject } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { evaluateTrustPolicy } from "../../src/iam/evaluate";
import { evaluateAccess } from "../../src/iam/evaluate-access";
import type { IamDocument } from "../../src/model/state-access";
import { parseSubjectClaim } from "../../src/explain/subject";
import {
  ENVIRONMENT_SUB_CLAIM_COMPONENTS,
  requestContextFor,
  type SubClaimComponent,
} from "../../src/model/claims";
import { EMPTY_LOCK, readLockFor, type GitLabLock } from "../../src/gitlab/lock";
import { testKeyPair } from "./test-key";
import {
  readSynthesizedStacks,
  type SynthesizedRole,
  type SynthesizedStack,
} from "../../src/terraform/synthesized-stacks";

export type InjectedFailure =
  | "IDPCommunicationError"
  | "Throttling"
  | "ServiceUnavailable"
  | "InternalFailure"
  | "drop"
  /** An error whose message quotes the WebIdentityToken it was sent (for the component's redaction test). */
  | "EchoToken";

export interface StsCall {
  readonly action: string;
  readonly roleArn?: string;
  readonly roleSessionName?: string;
  readonly durationSeconds?: string;
  /** "Success" or the error code returned ("drop" for a dropped connection). */
  readonly outcome: string;
  /** AssumeRole: the assumed-role ARN of the credentials that signed the call. */
  readonly callerArn?: string;
  /** The inline session policy (Policy), as sent. */
  readonly policy?: string;
  /** The managed session policy ARNs (PolicyArns.member.N.arn), in order. */
  readonly policyArns?: readonly string[];
}

export interface IssuedCredentials {
  /** The role the credentials are a session of (aws:PrincipalArn when they sign a call). */
  readonly roleArn: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string;
  readonly accountId: string;
  readonly roleName: string;
  readonly sessionName: string;
  /** The inline session policy the credentials were issued with, parsed. */
  readonly sessionPolicy?: unknown;
}

/** A role this project does not synthesize (e.g. an account's deployRoleArn), assumed by role chaining. */
export interface ExternalRole {
  readonly arn: string;
  /** Its trust policy, with AWS principals (the roles that may chain into it). */
  readonly trustPolicy: IamDocument;
}

export interface StandInOptions {
  /** @default none */
  readonly externalRoles?: readonly ExternalRole[];
}

export interface TokenClaims {
  /** e.g. project_path:acme/web:ref_type:branch:ref:main */
  readonly sub: string;
  /** @default sts.amazonaws.com, the component's default aud */
  readonly aud?: string | string[];
  /** Seconds from now; negative for an expired token. @default 300 */
  readonly expiresIn?: number;
  readonly [claim: string]: unknown;
}

const SESSION_NAME = /^[\w+=,.@-]{2,64}$/;
const ROLE_ARN = /^arn:aws:iam::(\d{12}):role(\/(?:[^/]+\/)*)?([\w+=,.@-]{1,64})$/;

function xmlEscape(value: string): string {
  return value.replace(
    /[<>&'"]/g,
    (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", "'": "&apos;", '"': "&quot;" })[c]!,
  );
}

function randomId(prefix: string, length: number): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  return prefix + Array.from(randomBytes(length), (b) => alphabet[b % alphabet.length]).join("");
}

class StsError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly type: "Sender" | "Receiver" = status >= 500 ? "Receiver" : "Sender",
  ) {
    super(message);
  }
}

interface JWTPayload {
  iss?: string;
  sub?: string;
  aud?: string | string[];
  exp?: number;
  nbf?: number;
  [claim: string]: unknown;
}

const b64url = (data: Buffer | string): string => Buffer.from(data).toString("base64url");

/** RS256 (RSASSA-PKCS1-v1_5 with SHA-256) compact JWS. */
function signJwt(payload: JWTPayload, privateKey: KeyObject): string {
  const input = `${b64url(JSON.stringify({ alg: "RS256", kid: "stand-in", typ: "JWT" }))}.${b64url(JSON.stringify(payload))}`;
  return `${input}.${b64url(sign("sha256", Buffer.from(input), privateKey))}`;
}

/** Verifies an RS256 JWT's signature; returns the payload or throws StsError(InvalidIdentityToken). */
function verifyJwt(token: string, publicKey: KeyObject): JWTPayload {
  const parts = token.split(".");
  const invalid = new StsError(400, "InvalidIdentityToken", "Couldn't verify the token's signature");
  if (parts.length !== 3) throw invalid;
  const [header, payload, signature] = parts as [string, string, string];
  let alg: unknown;
  try {
    alg = (JSON.parse(Buffer.from(header, "base64url").toString("utf8")) as { alg?: unknown }).alg;
  } catch {
    throw invalid;
  }
  if (alg !== "RS256") throw invalid;
  if (!verify("sha256", Buffer.from(`${header}.${payload}`), publicKey, Buffer.from(signature, "base64url")))
    throw invalid;
  try {
    return JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as JWTPayload;
  } catch {
    throw invalid;
  }
}

/** The session's ARN, as STS names it: arn:aws:sts::<account>:assumed-role/<role name>/<session>. */
function assumedRoleArn({ accountId, roleName, sessionName }: IssuedCredentials): string {
  return `arn:aws:sts::${accountId}:assumed-role/${roleName}/${sessionName}`;
}

/** AssumedRoleUser and Credentials of an AssumeRole* result, valid for `duration` seconds. */
function sessionXml(credentials: IssuedCredentials, duration: number): string {
  const expiration = new Date(Date.now() + duration * 1000).toISOString().replace(/\.\d+Z$/, "Z");
  return (
    `<AssumedRoleUser><Arn>${assumedRoleArn(credentials)}</Arn>` +
    `<AssumedRoleId>AROA${credentials.accessKeyId.slice(4)}:${credentials.sessionName}</AssumedRoleId></AssumedRoleUser>` +
    `<Credentials><SessionToken>${credentials.sessionToken}</SessionToken>` +
    `<SecretAccessKey>${credentials.secretAccessKey}</SecretAccessKey>` +
    `<Expiration>${expiration}</Expiration><AccessKeyId>${credentials.accessKeyId}</AccessKeyId></Credentials>`
  );
}

/** RoleArn, RoleSessionName and DurationSeconds of an AssumeRole* call, checked as STS checks them. */
function validatedAssumeParameters(params: URLSearchParams): {
  roleArn: string;
  sessionName: string;
  duration: number;
} {
  const roleArn = params.get("RoleArn") ?? "";
  const sessionName = params.get("RoleSessionName") ?? "";
  const duration = Number(params.get("DurationSeconds") ?? "3600");
  if (!ROLE_ARN.test(roleArn)) {
    throw new StsError(
      400,
      "ValidationError",
      `1 validation error detected: Value at 'roleArn' failed to satisfy constraint`,
    );
  }
  if (!SESSION_NAME.test(sessionName)) {
    throw new StsError(
      400,
      "ValidationError",
      "1 validation error detected: Value at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*",
    );
  }
  if (!Number.isInteger(duration) || duration < 900 || duration > 43200) {
    throw new StsError(
      400,
      "ValidationError",
      "1 validation error detected: Value at 'durationSeconds' failed to satisfy constraint",
    );
  }
  return { roleArn, sessionName, duration };
}

const INJECTED: Record<Exclude<InjectedFailure, "drop" | "EchoToken">, StsError> = {
  IDPCommunicationError: new StsError(
    400,
    "IDPCommunicationError",
    "Couldn't retrieve verification key from your identity provider,  please reference AssumeRoleWithWebIdentity documentation for requirements",
  ),
  Throttling: new StsError(400, "Throttling", "Rate exceeded"),
  ServiceUnavailable: new StsError(503, "ServiceUnavailable", "Service is unavailable"),
  InternalFailure: new StsError(500, "InternalFailure", "An internal error occurred"),
};

export class StsStandIn {
  readonly calls: StsCall[] = [];
  readonly issued: IssuedCredentials[] = [];
  private readonly injected: InjectedFailure[] = [];
  /** Failures for one role session name: one pipeline's jobs, each with its own scenario. */
  private readonly injectedFor = new Map<string, InjectedFailure[]>();

  private constructor(
    private readonly server: Server,
    readonly url: string,
    readonly stacks: readonly SynthesizedStack[],
    private readonly privateKey: KeyObject,
    private readonly publicKey: KeyObject,
    private readonly lock: GitLabLock,
    private readonly externalRoles: readonly ExternalRole[],
  ) {}

  /**
   * Starts a stand-in for the stacks synthesized in `terraformDir` on 127.0.0.1 and an ephemeral port.
   * `lock` gives minted tokens their project and namespace IDs (GitLab's, for the paths it names);
   * default: the lock beside the config next to `terraformDir` (gitlab-oidc.lock.yaml).
   */
  static async start(
    terraformDir: string,
    lock: GitLabLock = readLockFor(join(terraformDir, "..", "gitlab-oidc.yaml")) ?? EMPTY_LOCK,
    { externalRoles = [] }: StandInOptions = {},
  ): Promise<StsStandIn> {
    const stacks = await readSynthesizedStacks(terraformDir);
    const { privateKey, publicKey } = testKeyPair();
    const ready: { standIn?: StsStandIn } = {};
    const server = createServer((req, res) => void ready.standIn!.handle(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", resolve);
    });
    const { port } = server.address() as AddressInfo;
    ready.standIn = new StsStandIn(
      server,
      `http://127.0.0.1:${port}`,
      stacks,
      privateKey,
      publicKey,
      lock,
      externalRoles,
    );
    return ready.standIn;
  }

  /** The issuer every stack trusts (all example stacks use one GitLab URL). */
  get issuer(): string {
    return this.stacks[0]!.providerUrl;
  }

  /**
   * A GitLab-like ID token signed with this run's key. Claims not given are GitLab's for the sub's
   * project: IDs from the lock, `main` protected and other refs not, a push pipeline on a self-hosted
   * runner.
   */
  mintToken({ sub, aud, expiresIn = 300, ...claims }: TokenClaims): string {
    const now = Math.floor(Date.now() / 1000);
    // The sub's parts as GitLab formats them (any components, in any order: src/explain/subject.ts).
    // A sub in no GitLab format (a hostile-input test) is read as the default format, greedily, as before.
    const parts = parseSubjectClaim(sub);
    const [, projectPath = "", refType = "", ref = ""] = parts
      ? [sub, parts.projectPath, parts.refType, parts.ref ?? ""]
      : (/^project_path:(.*):ref_type:(\w+):ref:(.*)$/.exec(sub) ?? []);
    // A job with an environment carries environment_protected and deployment_tier as claims too.
    const environment = Object.fromEntries(
      Object.entries(parts?.other ?? {}).filter(([name]) =>
        ENVIRONMENT_SUB_CLAIM_COMPONENTS.includes(name as SubClaimComponent),
      ),
    );
    return signJwt(
      {
        namespace_path: projectPath.split("/").slice(0, -1).join("/"),
        project_path: projectPath,
        ref_type: refType,
        ref,
        ref_path: `refs/${refType === "tag" ? "tags" : "heads"}/${ref}`,
        // GitLab protects a project's default branch unless told otherwise; other refs start unprotected.
        ref_protected:
          parts?.other?.ref_protected ?? (refType === "branch" && ref === "main" ? "true" : "false"),
        pipeline_source: "push",
        runner_environment: "self-hosted",
        ...environment,
        // GitLab names the pusher's (or play-presser's) project role; a Developer unless the test says otherwise.
        user_access_level: "developer",
        ...(this.lock.projects[projectPath]
          ? {
              project_id: String(this.lock.projects[projectPath].id),
              namespace_id: String(this.lock.projects[projectPath].namespaceId),
            }
          : {}),
        ...claims,
        iss: this.issuer,
        sub,
        aud: aud ?? "sts.amazonaws.com",
        iat: now,
        nbf: now - 5,
        exp: now + expiresIn,
        jti: randomUUID(),
      },
      this.privateKey,
    );
  }

  /** The next `count` AssumeRoleWithWebIdentity calls fail with `failure`. */
  injectFailures(failure: InjectedFailure, count: number): void {
    for (let i = 0; i < count; i++) this.injected.push(failure);
  }

  /**
   * The next `count` AssumeRoleWithWebIdentity calls with role session name `sessionName` fail with
   * `failure` (before any injectFailures): several jobs of one pipeline run, each its own scenario.
   */
  injectFailuresFor(sessionName: string, failure: InjectedFailure, count: number): void {
    const queue = this.injectedFor.get(sessionName) ?? [];
    for (let i = 0; i < count; i++) queue.push(failure);
    this.injectedFor.set(sessionName, queue);
  }

  clearInjectedFailures(): void {
    this.injected.length = 0;
    this.injectedFor.clear();
  }

  assumeCalls(): StsCall[] {
    return this.calls.filter((c) => c.action === "AssumeRoleWithWebIdentity");
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const url = new URL(req.url ?? "/", this.url);
    const params = new URLSearchParams(Buffer.concat(chunks).toString("utf8"));
    for (const [k, v] of url.searchParams) if (!params.has(k)) params.set(k, v);
    const action = params.get("Action") ?? "";
    const requestId = randomUUID();
    let callerArn: string | undefined;
    const policyArns = [...params.keys()]
      .filter((k) => /^PolicyArns\.member\.\d+\.arn$/.test(k))
      .sort((a, b) => Number(a.split(".")[2]) - Number(b.split(".")[2]))
      .map((k) => params.get(k)!);
    const record = (outcome: string): void => {
      this.calls.push({
        ...(params.get("Policy") ? { policy: params.get("Policy")! } : {}),
        ...(policyArns.length > 0 ? { policyArns } : {}),
        action,
        ...(params.get("RoleArn") ? { roleArn: params.get("RoleArn")! } : {}),
        ...(params.get("RoleSessionName") ? { roleSessionName: params.get("RoleSessionName")! } : {}),
        ...(params.get("DurationSeconds") ? { durationSeconds: params.get("DurationSeconds")! } : {}),
        outcome,
        ...(callerArn ? { callerArn } : {}),
      });
    };
    try {
      let body: string;
      if (action === "AssumeRoleWithWebIdentity") {
        const failure =
          this.injectedFor.get(params.get("RoleSessionName") ?? "")?.shift() ?? this.injected.shift();
        if (failure === "drop") {
          record("drop");
          req.socket.destroy();
          return;
        }
        if (failure === "EchoToken") {
          throw new StsError(
            400,
            "InvalidIdentityToken",
            `Could not parse the token ${params.get("WebIdentityToken") ?? ""}`,
          );
        }
        if (failure) throw INJECTED[failure];
        body = await this.assumeRoleWithWebIdentity(params, requestId);
      } else if (action === "GetCallerIdentity") {
        body = this.getCallerIdentity(req, requestId);
      } else if (action === "AssumeRole") {
        const caller = this.caller(req);
        callerArn = assumedRoleArn(caller);
        body = this.assumeRole(caller, params, requestId);
      } else {
        throw new StsError(400, "InvalidAction", `Could not find operation ${action} for version 2011-06-15`);
      }
      record("Success");
      res.writeHead(200, { "content-type": "text/xml", "x-amzn-requestid": requestId }).end(body);
    } catch (error) {
      const e =
        error instanceof StsError
          ? error
          : // Not a 5xx: the AWS CLI and the component retry those, so a stand-in bug would pass as a
            // transient failure. A 400 with its own code stops the caller and shows the bug.
            new StsError(400, "StandInBug", `stand-in bug: ${String(error)}`);
      record(e.code);
      res
        .writeHead(e.status, { "content-type": "text/xml", "x-amzn-requestid": requestId })
        .end(
          `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>${e.type}</Type>` +
            `<Code>${xmlEscape(e.code)}</Code><Message>${xmlEscape(e.message)}</Message></Error>` +
            `<RequestId>${requestId}</RequestId></ErrorResponse>`,
        );
    }
  }

  private findRole(roleArn: string): { stack: SynthesizedStack; role: SynthesizedRole } | undefined {
    for (const stack of this.stacks) {
      for (const role of stack.roles) {
        if (`arn:aws:iam::${stack.accountId}:role${role.path}${role.name}` === roleArn)
          return { stack, role };
      }
    }
    return undefined;
  }

  private async assumeRoleWithWebIdentity(params: URLSearchParams, requestId: string): Promise<string> {
    const { roleArn, sessionName, duration } = validatedAssumeParameters(params);
    const token = params.get("WebIdentityToken") ?? "";
    if (token.length < 4 || token.length > 20000) {
      throw new StsError(
        400,
        "ValidationError",
        "1 validation error detected: Value at 'webIdentityToken' failed to satisfy constraint",
      );
    }
    const policy = params.get("Policy");
    let sessionPolicy: unknown;
    if (policy !== null) {
      try {
        sessionPolicy = JSON.parse(policy);
      } catch {
        throw new StsError(400, "MalformedPolicyDocument", "The policy is not in the valid JSON format.");
      }
      if (policy.length > 2048) throw new StsError(400, "PackedPolicyTooLarge", "Session policy too large");
    }
    const found = this.findRole(roleArn);
    if (!found)
      throw new StsError(403, "AccessDenied", "Not authorized to perform sts:AssumeRoleWithWebIdentity");
    const { stack, role } = found;
    if (duration > role.maxSessionDuration) {
      throw new StsError(
        400,
        "ValidationError",
        "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
      );
    }

    const payload = verifyJwt(token, this.publicKey);
    const now = Date.now() / 1000;
    if (payload.iss !== stack.providerUrl) {
      throw new StsError(
        400,
        "InvalidIdentityToken",
        `No OpenIDConnect provider found in your account for ${String(payload.iss)}`,
      );
    }
    const tokenAudiences = Array.isArray(payload.aud) ? payload.aud : [payload.aud ?? ""];
    if (stack.providerAudiences && !tokenAudiences.some((a) => stack.providerAudiences!.includes(a))) {
      throw new StsError(400, "InvalidIdentityToken", "Incorrect token audience");
    }
    if (typeof payload.exp !== "number" || payload.exp <= now) {
      throw new StsError(
        400,
        "ExpiredTokenException",
        "Token expired: current date/time must be before the expiration date/time",
      );
    }
    if (typeof payload.nbf === "number" && payload.nbf > now + 60) {
      throw new StsError(400, "InvalidIdentityToken", "Token is not valid yet");
    }

    const host = stack.providerUrl.replace(/^https:\/\//, "");
    const audiences = Array.isArray(payload.aud) ? payload.aud : [payload.aud ?? ""];
    const aud =
      audiences.find((a) => !stack.providerAudiences || stack.providerAudiences.includes(a)) ?? audiences[0]!;
    const evaluation = evaluateTrustPolicy(role.trustPolicy, {
      federatedPrincipal: stack.providerReference,
      // The keys STS supplies for this issuer, from the token's claims (src/model/claims.ts).
      context: requestContextFor(host, payload, aud),
    });
    if (!evaluation.allowed)
      throw new StsError(403, "AccessDenied", "Not authorized to perform sts:AssumeRoleWithWebIdentity");

    const credentials = this.issue(roleArn, sessionName, sessionPolicy);
    return (
      `<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">` +
      `<AssumeRoleWithWebIdentityResult>` +
      `<SubjectFromWebIdentityToken>${xmlEscape(payload.sub ?? "")}</SubjectFromWebIdentityToken>` +
      `<Audience>${xmlEscape(aud)}</Audience>` +
      sessionXml(credentials, duration) +
      `<Provider>${xmlEscape(stack.providerUrl.replace(/^https:\/\//, ""))}</Provider>` +
      `</AssumeRoleWithWebIdentityResult>` +
      `<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata>` +
      `</AssumeRoleWithWebIdentityResponse>`
    );
  }

  /** New credentials for a session of `roleArn` (validated), remembered for the calls they sign. */
  private issue(roleArn: string, sessionName: string, sessionPolicy?: unknown): IssuedCredentials {
    const [, accountId, , roleName] = ROLE_ARN.exec(roleArn)!;
    const credentials: IssuedCredentials = {
      roleArn,
      accessKeyId: randomId("ASIA", 16),
      secretAccessKey: randomBytes(30).toString("base64"),
      sessionToken: randomBytes(300).toString("base64"),
      accountId: accountId!,
      roleName: roleName!,
      sessionName,
      ...(sessionPolicy === undefined ? {} : { sessionPolicy }),
    };
    this.issued.push(credentials);
    return credentials;
  }

  /**
   * AssumeRole with credentials this stand-in issued: IAM's decision on the target role's trust policy for
   * the calling role (aws:PrincipalArn is the role, not its session).
   */
  private assumeRole(caller: IssuedCredentials, params: URLSearchParams, requestId: string): string {
    const { roleArn, sessionName, duration } = validatedAssumeParameters(params);
    // Role chaining limits a session to one hour (IAM User Guide, "Role chaining").
    if (duration > 3600) {
      throw new StsError(
        400,
        "ValidationError",
        "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.",
      );
    }
    const synthesized = this.findRole(roleArn);
    const external = this.externalRoles.find((r) => r.arn === roleArn);
    // A synthesized trust policy's only principal is the OIDC provider (Principal.Federated): the
    // calling role is not it, so no statement matches.
    const allowed = synthesized
      ? evaluateTrustPolicy(synthesized.role.trustPolicy, {
          federatedPrincipal: caller.roleArn,
          action: "sts:AssumeRole",
          context: { "aws:PrincipalArn": caller.roleArn },
        }).allowed
      : external !== undefined &&
        evaluateAccess(
          { principalArn: caller.roleArn, action: "sts:AssumeRole", resource: roleArn },
          {
            identityPolicies: [],
            resourcePolicy: external.trustPolicy,
            resourceAccount: roleArn.split(":")[4]!,
          },
        ).allowed;
    if (!allowed) {
      throw new StsError(
        403,
        "AccessDenied",
        `User: ${assumedRoleArn(caller)} is not authorized to perform: sts:AssumeRole on resource: ${roleArn}`,
      );
    }
    const credentials = this.issue(roleArn, sessionName);
    return (
      `<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult>` +
      sessionXml(credentials, duration) +
      `</AssumeRoleResult><ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata>` +
      `</AssumeRoleResponse>`
    );
  }

  /** The credentials this stand-in issued that signed the request (SigV4: the access key id is read, not verified). */
  private caller(req: IncomingMessage): IssuedCredentials {
    const accessKeyId = /Credential=([A-Z0-9]+)\//.exec(String(req.headers.authorization ?? ""))?.[1];
    const credentials = this.issued.find((c) => c.accessKeyId === accessKeyId);
    if (!credentials) {
      throw new StsError(
        403,
        "InvalidClientTokenId",
        "The security token included in the request is invalid.",
      );
    }
    return credentials;
  }

  private getCallerIdentity(req: IncomingMessage, requestId: string): string {
    const credentials = this.caller(req);
    const { accountId, sessionName } = credentials;
    return (
      `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult>` +
      `<Arn>${assumedRoleArn(credentials)}</Arn>` +
      `<UserId>AROA${credentials.accessKeyId.slice(4)}:${sessionName}</UserId><Account>${accountId}</Account>` +
      `</GetCallerIdentityResult><ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata>` +
      `</GetCallerIdentityResponse>`
    );
  }
}
