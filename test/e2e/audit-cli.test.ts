/**
 * End to end: what the real AWS CLI (Debian's /usr/bin/aws) prints for `aws iam
 * get-account-authorization-details` and `aws iam get-role` — served by an IAM stand-in on 127.0.0.1
 * that answers like IAM (XML, URL-encoded policy documents) — audited by the built CLI
 * (`node dist/src/audit/cli.js`, as `npm run audit` runs it). The result equals the audit of the
 * committed fixture, so the fixtures are what the CLI prints.
 */
import { auditText, toConfig } from "../../src/audit/audit";
import { serializeLock } from "../../src/gitlab/lock";
import { execFile, execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const REPO = join(__dirname, "..", "..");
jest.setTimeout(60_000);
const AWS = "/usr/bin/aws";
const FIXTURE = join(REPO, "test", "fixtures", "audit", "account-authorization-details.json");

type Role = Record<string, unknown> & { RoleName: string };

const xml = (value: unknown) =>
  String(value).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
/** IAM returns policy documents URL-encoded (RFC 3986). */
const encoded = (document: unknown) =>
  xml(
    encodeURIComponent(
      typeof document === "string" ? decodeURIComponent(document) : JSON.stringify(document),
    ),
  );
const members = (items: unknown[], render: (item: Record<string, unknown>) => string) =>
  items.map((item) => `<member>${render(item as Record<string, unknown>)}</member>`).join("");

function roleXml(role: Role, detail: boolean): string {
  return [
    `<Path>${xml(role.Path)}</Path><RoleName>${xml(role.RoleName)}</RoleName><RoleId>${xml(role.RoleId)}</RoleId>`,
    `<Arn>${xml(role.Arn)}</Arn><CreateDate>${xml(role.CreateDate)}</CreateDate>`,
    `<AssumeRolePolicyDocument>${encoded(role.AssumeRolePolicyDocument)}</AssumeRolePolicyDocument>`,
    detail
      ? [
          "<InstanceProfileList/>",
          `<RolePolicyList>${members(role.RolePolicyList as unknown[], (p) => `<PolicyName>${xml(p.PolicyName)}</PolicyName><PolicyDocument>${encoded(p.PolicyDocument)}</PolicyDocument>`)}</RolePolicyList>`,
          `<AttachedManagedPolicies>${members(role.AttachedManagedPolicies as unknown[], (p) => `<PolicyName>${xml(p.PolicyName)}</PolicyName><PolicyArn>${xml(p.PolicyArn)}</PolicyArn>`)}</AttachedManagedPolicies>`,
        ].join("")
      : "<MaxSessionDuration>3600</MaxSessionDuration>",
    `<Tags>${members(role.Tags as unknown[], (t) => `<Key>${xml(t.Key)}</Key><Value>${xml(t.Value)}</Value>`)}</Tags>`,
  ].join("");
}

/** Answers GetAccountAuthorizationDetails and GetRole from the fixture's roles, as IAM's query API does. */
function iamStandIn(roles: Role[]): Server {
  return createServer((request, response) => {
    let body = "";
    request.on("data", (chunk) => (body += chunk));
    request.on("end", () => {
      const form = new URLSearchParams(body);
      const action = form.get("Action");
      const wrap = (inner: string) =>
        `<${action}Response xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><${action}Result>${inner}</${action}Result><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></${action}Response>`;
      response.setHeader("content-type", "text/xml");
      if (action === "GetAccountAuthorizationDetails") {
        response.end(
          wrap(
            `<IsTruncated>false</IsTruncated><UserDetailList/><GroupDetailList/><RoleDetailList>${members(roles, (r) => roleXml(r as Role, true))}</RoleDetailList><Policies/>`,
          ),
        );
        return;
      }
      const role = roles.find((r) => r.RoleName === form.get("RoleName"));
      if (action === "GetRole" && role) {
        response.end(wrap(`<Role>${roleXml(role, false)}</Role>`));
        return;
      }
      response.statusCode = 404;
      response.end(
        `<ErrorResponse><Error><Type>Sender</Type><Code>NoSuchEntity</Code><Message>not found</Message></Error></ErrorResponse>`,
      );
    });
  });
}

let server: Server;
let endpoint: string;
let dir: string;
const roles = (JSON.parse(readFileSync(FIXTURE, "utf8")) as { RoleDetailList: Role[] }).RoleDetailList;

beforeAll(async () => {
  execFileSync(process.execPath, [join(REPO, "scripts", "build.mjs")], { cwd: REPO });
  dir = mkdtempSync(join(tmpdir(), "audit-cli-"));
  server = iamStandIn(roles);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server?.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

/** Runs the real AWS CLI against the stand-in (asynchronously: the stand-in answers from this process). */
async function awsCli(args: string[]): Promise<string> {
  const options = [
    "--endpoint-url",
    endpoint,
    "--output",
    "json",
    "--cli-read-timeout",
    "20",
    "--cli-connect-timeout",
    "5",
  ];
  const { stdout } = await promisify(execFile)(AWS, [...args, ...options], {
    env: {
      PATH: process.env.PATH,
      HOME: dir,
      AWS_ACCESS_KEY_ID: "AKIAEXAMPLE",
      AWS_SECRET_ACCESS_KEY: "example",
      AWS_DEFAULT_REGION: "us-east-1",
      AWS_CONFIG_FILE: join(dir, "none"),
      AWS_SHARED_CREDENTIALS_FILE: join(dir, "none"),
    },
    encoding: "utf8",
  });
  return stdout;
}

function audit(args: string[]) {
  const run = spawnSync(process.execPath, [join(REPO, "dist", "src", "audit", "cli.js"), ...args], {
    cwd: REPO,
    encoding: "utf8",
  });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

test("get-account-authorization-details as the AWS CLI prints it audits like the committed fixture", async () => {
  // GIVEN the real AWS CLI's output for the fixture's roles
  const file = join(dir, "account.json");
  writeFileSync(file, await awsCli(["iam", "get-account-authorization-details"]));
  // WHEN both are audited with --json
  const fromCli = audit([file, "--json"]);
  const fromFixture = audit([FIXTURE, "--json"]);
  // THEN the findings are the same, and the critical ones set exit code 1
  expect(fromCli.stderr).toBe("");
  expect(fromCli.code).toBe(1);
  expect(JSON.parse(fromCli.stdout)).toEqual(JSON.parse(fromFixture.stdout));
});

test("get-role as the AWS CLI prints it: text output, exit 0 without critical findings", async () => {
  const file = join(dir, "role.json");
  writeFileSync(file, await awsCli(["iam", "get-role", "--role-name", "gitlab-any-branch"]));
  const result = audit([file]);
  expect(result.code).toBe(0);
  expect(result.stdout).toMatch(/gitlab-any-branch \(arn:aws:iam::111111111111:role\/gitlab-any-branch\)/);
  expect(result.stdout).toMatch(/warning\s+any-ref/);
});

test("--to-config on the CLI's output prints YAML the synth accepts", async () => {
  const file = join(dir, "account.json");
  writeFileSync(file, await awsCli(["iam", "get-account-authorization-details"]));
  const result = audit([file, "--to-config"]);
  expect(result.code).toBe(1); // some roles have no safe equivalent
  expect(result.stdout).toContain("- name: gitlab-group-deploy");
  // One YAML document per issuer: take the role's. Its neighbours pin IDs, which the lock beside the
  // config must hold (npm run resolve writes it; here from the IDs the conversion names).
  const document = result.stdout.split(/^---$/m).find((doc) => doc.includes("- name: gitlab-group-deploy"))!;
  const config = join(dir, "gitlab-oidc.yaml");
  writeFileSync(config, document);
  const { lock } = toConfig(auditText(readFileSync(file, "utf8"), file), file);
  writeFileSync(join(dir, "gitlab-oidc.lock.yaml"), serializeLock(lock));
  const synth = spawnSync(process.execPath, [join(REPO, "dist", "main.js")], {
    cwd: REPO,
    encoding: "utf8",
    env: { ...process.env, GITLAB_OIDC_CONFIG: config, CDKTF_OUTDIR: join(dir, "out") },
  });
  expect(synth.stderr).toBe("");
  expect(synth.status).toBe(0);
  const hcl = readFileSync(join(dir, "out", "stacks", "account-111111111111", "cdk.tf"), "utf8");
  expect(hcl).toMatch(/import \{\n\s+to = aws_iam_role.gitlab-group-deploy\n\s+id = "gitlab-group-deploy"/);
});

test("malformed input and usage errors: exit 2, one line naming the file, no stack trace", () => {
  const file = join(REPO, "test", "fixtures", "audit", "malformed", "not-json.txt");
  const result = audit([file]);
  expect(result.code).toBe(2);
  expect(result.stderr).toMatch(/^audit: .*not-json\.txt: not JSON \(line 1, column \d+/);
  expect(result.stderr).not.toMatch(/\n\s+at /);
  expect(audit(["--bogus"]).code).toBe(2);
});
