/**
 * TEST SUPPORT: a stand-in for the IAM query API on 127.0.0.1, holding one account's live roles and
 * OIDC providers, so `terraform plan` with import blocks (which must read the objects they import) runs
 * offline with the real AWS provider. It answers the reads the provider makes for the resources this
 * project writes: GetRole, ListRolePolicies, ListAttachedRolePolicies, GetRolePolicy, ListRoleTags,
 * GetOpenIDConnectProvider, ListOpenIDConnectProviders; anything else (a write) is refused with a 400,
 * so a plan that tried to change something during planning would fail loudly.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface LiveRole {
  readonly name: string;
  readonly path?: string;
  readonly description?: string;
  readonly trustPolicy: Record<string, unknown>;
  readonly managedPolicyArns: readonly string[];
  readonly inlinePolicies: Readonly<Record<string, Record<string, unknown>>>;
  readonly tags?: Readonly<Record<string, string>>;
}

export interface LiveProvider {
  /** Without https://, as IAM stores it: `gitlab.com`. */
  readonly url: string;
  readonly clientIds: readonly string[];
}

export interface LiveAccount {
  readonly accountId: string;
  readonly roles: readonly LiveRole[];
  readonly providers: readonly LiveProvider[];
}

export interface IamStandIn {
  readonly endpoint: string;
  /** Every Action the provider asked for, in order. */
  readonly actions: readonly string[];
  close(): Promise<void>;
}

const NS = "https://iam.amazonaws.com/doc/2010-05-08/";

function xml(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
}

const members = (items: readonly string[]) => items.map((item) => `<member>${item}</member>`).join("");
const tagsXml = (tags: Readonly<Record<string, string>> = {}) =>
  members(Object.entries(tags).map(([k, v]) => `<Key>${xml(k)}</Key><Value>${xml(v)}</Value>`));

function ok(action: string, result: string): { status: number; body: string } {
  return {
    status: 200,
    body: `<${action}Response xmlns="${NS}"><${action}Result>${result}</${action}Result><ResponseMetadata><RequestId>stand-in</RequestId></ResponseMetadata></${action}Response>`,
  };
}

function error(status: number, code: string, message: string): { status: number; body: string } {
  return {
    status,
    body: `<ErrorResponse xmlns="${NS}"><Error><Type>Sender</Type><Code>${code}</Code><Message>${xml(message)}</Message></Error><RequestId>stand-in</RequestId></ErrorResponse>`,
  };
}

function answer(account: LiveAccount, params: URLSearchParams): { status: number; body: string } {
  const action = params.get("Action") ?? "";
  const providerArn = (p: LiveProvider) => `arn:aws:iam::${account.accountId}:oidc-provider/${p.url}`;
  const role = account.roles.find((r) => r.name === params.get("RoleName"));
  const needsRole = [
    "GetRole",
    "ListRolePolicies",
    "ListAttachedRolePolicies",
    "GetRolePolicy",
    "ListRoleTags",
  ].includes(action);
  if (needsRole && !role) {
    return error(404, "NoSuchEntity", `The role with name ${params.get("RoleName")} cannot be found.`);
  }
  switch (action) {
    case "GetRole": {
      const r = role!;
      return ok(
        action,
        `<Role><Path>${xml(r.path ?? "/")}</Path><RoleName>${xml(r.name)}</RoleName><RoleId>AROASTANDIN${r.name.length}</RoleId>` +
          `<Arn>arn:aws:iam::${account.accountId}:role${xml(r.path ?? "/")}${xml(r.name)}</Arn><CreateDate>2023-01-01T00:00:00Z</CreateDate>` +
          `<AssumeRolePolicyDocument>${xml(encodeURIComponent(JSON.stringify(r.trustPolicy)))}</AssumeRolePolicyDocument>` +
          (r.description ? `<Description>${xml(r.description)}</Description>` : "") +
          `<MaxSessionDuration>3600</MaxSessionDuration><Tags>${tagsXml(r.tags)}</Tags><RoleLastUsed></RoleLastUsed></Role>`,
      );
    }
    case "ListRoleTags":
      return ok(action, `<Tags>${tagsXml(role!.tags)}</Tags><IsTruncated>false</IsTruncated>`);
    case "ListRolePolicies":
      return ok(
        action,
        `<PolicyNames>${members(Object.keys(role!.inlinePolicies).map(xml))}</PolicyNames><IsTruncated>false</IsTruncated>`,
      );
    case "ListAttachedRolePolicies":
      return ok(
        action,
        `<AttachedPolicies>${members(
          role!.managedPolicyArns.map(
            (arn) =>
              `<PolicyName>${xml(arn.split("/").pop()!)}</PolicyName><PolicyArn>${xml(arn)}</PolicyArn>`,
          ),
        )}</AttachedPolicies><IsTruncated>false</IsTruncated>`,
      );
    case "GetRolePolicy": {
      const name = params.get("PolicyName") ?? "";
      const document = Object.hasOwn(role!.inlinePolicies, name) ? role!.inlinePolicies[name] : undefined;
      if (!document) return error(404, "NoSuchEntity", `The role policy with name ${name} cannot be found.`);
      return ok(
        action,
        `<RoleName>${xml(role!.name)}</RoleName><PolicyName>${xml(name)}</PolicyName><PolicyDocument>${xml(encodeURIComponent(JSON.stringify(document)))}</PolicyDocument>`,
      );
    }
    case "ListOpenIDConnectProviders":
      return ok(
        action,
        `<OpenIDConnectProviderList>${members(account.providers.map((p) => `<Arn>${xml(providerArn(p))}</Arn>`))}</OpenIDConnectProviderList>`,
      );
    case "GetOpenIDConnectProvider": {
      const provider = account.providers.find(
        (p) => providerArn(p) === params.get("OpenIDConnectProviderArn"),
      );
      if (!provider) return error(404, "NoSuchEntity", "OpenIDConnect Provider not found");
      return ok(
        action,
        `<Url>${xml(provider.url)}</Url><ClientIDList>${members(provider.clientIds.map(xml))}</ClientIDList>` +
          `<ThumbprintList></ThumbprintList><CreateDate>2023-01-01T00:00:00Z</CreateDate><Tags></Tags>`,
      );
    }
    default:
      return error(400, "StandInRefused", `the IAM stand-in answers reads only, not ${action}`);
  }
}

export async function startIamStandIn(account: LiveAccount): Promise<IamStandIn> {
  const actions: string[] = [];
  const server: Server = createServer((request, response) => {
    let body = "";
    request.setEncoding("utf8");
    request.on("data", (chunk: string) => (body += chunk));
    request.on("end", () => {
      const params = new URLSearchParams(body);
      actions.push(params.get("Action") ?? "?");
      const { status, body: text } = answer(account, params);
      response.writeHead(status, { "content-type": "text/xml" });
      response.end(text);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    actions,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
