/**
 * Reads the synthesized Terraform (HCL `cdk.tf` or JSON `cdk.tf.json`) back into the model: per stack,
 * the OIDC provider and each role with the trust policy IAM will evaluate. Whatever explains or tests
 * access reads what will really be deployed, not a second rendering of the config.
 */
import { readFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { compareCodeUnits } from "../model/names";
import { STATE_STACK } from "../model/state-access";
import type { IamConditions, IamPolicyDocument, IamStatement } from "../model/trust-policy";
import { fromTemplate } from "./literal";

export interface SynthesizedRole {
  /** The IAM role name. */
  readonly name: string;
  /** Terraform address, e.g. `aws_iam_role.gitlab-deploy-web`. */
  readonly address: string;
  readonly path: string;
  readonly description?: string;
  readonly maxSessionDuration: number;
  readonly permissionsBoundary?: string;
  /** The role's own tags (the stack's default tags come on top). */
  readonly tags?: Readonly<Record<string, string>>;
  readonly managedPolicyArns: readonly string[];
  /** Names of the role's inline policies. */
  readonly inlinePolicyNames: readonly string[];
  /**
   * What `aws_iam_role_policy_attachments_exclusive` / `aws_iam_role_policies_exclusive` keep (anything
   * else attached or inlined is removed by apply). Set by the stacks and the reader for every role.
   */
  readonly exclusivePolicyArns?: readonly string[];
  readonly exclusiveInlinePolicyNames?: readonly string[];
  /** Import blocks adopting the role and its policies (`adopt: true`); [] when not adopted. */
  readonly imports?: readonly SynthesizedImport[];
  /** The inline policies' documents by name, as Terraform will send them to IAM. */
  readonly inlinePolicies: Readonly<Record<string, unknown>>;
  /** Principal.Federated holds the provider's Terraform reference (see SynthesizedStack.providerReference). */
  readonly trustPolicy: IamPolicyDocument;
}

/** A Terraform `import` block: the target address (with its key, if any) and the import ID. */
export interface SynthesizedImport {
  readonly to: string;
  readonly id: string;
}

export interface SynthesizedStack {
  readonly name: string;
  /** Account the AWS provider is pinned to (allowed_account_ids). */
  readonly accountId?: string;
  readonly region?: string;
  /** The GitLab URL the OIDC provider is for. */
  readonly providerUrl: string;
  /** Whether the stack creates the provider or looks up an existing one. */
  readonly providerMode: "create" | "existing";
  /** How trust policies name the provider, e.g. `${aws_iam_openid_connect_provider.gitlab.arn}`. */
  readonly providerReference: string;
  /** Audiences the provider accepts (client_id_list); unknown for an existing provider. */
  readonly providerAudiences?: readonly string[];
  /** The import block adopting the provider (`adopt: true` on the account), if any. */
  readonly providerImport?: SynthesizedImport;
  readonly roles: readonly SynthesizedRole[];
}

type Block = Record<string, unknown>;

/** hcl2json wraps every block in a list; cdk.tf.json does not. */
function one(value: unknown): Block {
  return (Array.isArray(value) ? value[0] : value) as Block;
}

/** The blocks of one type by name, sorted: hcl2json sorts them, cdktf's JSON keeps config order. */
function blocks(parent: Block | undefined, type: string): [string, Block][] {
  const byName = (parent?.[type] ?? {}) as Record<string, unknown>;
  return Object.keys(byName)
    .sort()
    .map((name) => [name, one(byName[name])]);
}

/** A literal string attribute as Terraform reads it (the writer escapes `${` and `%{`). */
function text(value: unknown): string {
  return fromTemplate(value as string);
}

function texts(value: unknown): string[] {
  return ((value ?? []) as string[]).map(text);
}

function toStatement(block: Block): IamStatement {
  const condition: IamConditions = Object.create(null) as IamConditions;
  for (const c of (block.condition ?? []) as { test: string; variable: string; values: string[] }[]) {
    // Repeated condition blocks for one test and variable are merged, their values ORed.
    const keys = (condition[text(c.test)] ??= Object.create(null) as IamConditions[string]);
    keys[text(c.variable)] = [...(keys[text(c.variable)] ?? []), ...texts(c.values)];
  }
  const federated = ((block.principals ?? []) as { type: string; identifiers: string[] }[])
    .filter((p) => p.type === "Federated")
    .flatMap((p) => p.identifiers);
  return {
    ...(block.sid ? { Sid: text(block.sid) } : {}),
    Effect: (block.effect as "Allow" | "Deny") ?? "Allow",
    Action: texts(block.actions),
    Principal: { Federated: federated },
    Condition: condition,
  };
}

const REFERENCE = /^\$\{([A-Za-z0-9_.-]+)\}$/;

/**
 * The import blocks, in the order the model keeps them. hcl2json reads `to` as an expression
 * (`${aws_iam_role.x}`); cdk.tf.json holds the bare address.
 */
function importsOf(tf: Block): SynthesizedImport[] {
  return ((tf.import ?? []) as { to: string; id: string }[])
    .map((block) => ({ to: block.to.replace(/^\$\{([\s\S]*)\}$/, "$1"), id: fromTemplate(block.id) }))
    .sort((a, b) => compareCodeUnits(a.to, b.to));
}

/** Resource types whose import blocks belong to the role of the same address. */
const ROLE_IMPORT_TYPES = [
  "aws_iam_role",
  "aws_iam_role_policy_attachment",
  "aws_iam_role_policy_attachments_exclusive",
  "aws_iam_role_policies_exclusive",
];

/** `aws_iam_role_policy_attachment.deploy["arn"]` → `deploy`. */
function importedResourceName(to: string): string {
  return /^[\w-]+\.([\w-]+)/.exec(to)?.[1] ?? "";
}

function providerImportOf(imports: SynthesizedImport[], providerName: string | undefined) {
  const found = imports.find((i) => i.to === `aws_iam_openid_connect_provider.${providerName}`);
  return found ? { providerImport: found } : {};
}

/**
 * `${jsonencode({ "Version" = "2012-10-17", … })}` → the document. cdktf writes the argument as an HCL
 * object of quoted keys, strings, numbers, booleans and lists, whose strings use JSON's escapes: with
 * `=` read as `:` outside strings it is JSON; then each string is read as Terraform reads a template.
 */
export function readJsonencode(expression: string): unknown {
  const argument = /^\$\{jsonencode\(([\s\S]*)\)\}$/.exec(expression)?.[1];
  // A policy written as a JSON string (by hand, or by an older tool) is a literal template.
  if (argument === undefined) return JSON.parse(fromTemplate(expression)) as unknown;
  let json = "";
  for (let i = 0; i < argument.length; i++) {
    const c = argument[i];
    if (c === '"') {
      const end = /^"(?:[^"\\]|\\.)*"/.exec(argument.slice(i))![0];
      json += end;
      i += end.length - 1;
    } else {
      json += c === "=" ? ":" : c;
    }
  }
  const literal = (value: unknown): unknown =>
    typeof value === "string"
      ? fromTemplate(value)
      : Array.isArray(value)
        ? value.map(literal)
        : value && typeof value === "object"
          ? Object.fromEntries(Object.entries(value).map(([k, v]) => [fromTemplate(k), literal(v)]))
          : value;
  return literal(JSON.parse(json));
}

/** The parsed Terraform configuration of one stack → the model. */
export function readStackConfiguration(name: string, tf: Block): SynthesizedStack {
  const resource = tf.resource as Block | undefined;
  const data = tf.data as Block | undefined;
  const provider = one((tf.provider as Block | undefined)?.aws ?? {});
  const created = blocks(resource, "aws_iam_openid_connect_provider")[0];
  const existing = blocks(data, "aws_iam_openid_connect_provider")[0];
  const [providerName, providerBlock] = created ?? existing ?? [];
  if (!providerBlock) throw new Error(`stack ${name}: no aws_iam_openid_connect_provider resource or data source`);

  const documents = new Map(blocks(data, "aws_iam_policy_document"));
  const attachments = blocks(resource, "aws_iam_role_policy_attachment");
  const inline = blocks(resource, "aws_iam_role_policy");
  const attachmentsExclusive = blocks(resource, "aws_iam_role_policy_attachments_exclusive");
  const policiesExclusive = blocks(resource, "aws_iam_role_policies_exclusive");
  const imports = importsOf(tf);
  const roles = blocks(resource, "aws_iam_role").map(([address, role]): SynthesizedRole => {
    const documentName = REFERENCE.exec(role.assume_role_policy as string)?.[1]?.match(
      /^data\.aws_iam_policy_document\.(.+)\.json$/,
    )?.[1];
    const document = documentName ? documents.get(documentName) : undefined;
    if (!document) throw new Error(`stack ${name}: role ${address} has no aws_iam_policy_document trust policy`);
    const roleReference = `\${aws_iam_role.${address}.name}`;
    const tags = role.tags as Record<string, string> | undefined;
    return {
      name: text(role.name),
      address: `aws_iam_role.${address}`,
      path: role.path === undefined ? "/" : text(role.path),
      ...(role.description ? { description: text(role.description) } : {}),
      maxSessionDuration: Number(role.max_session_duration ?? 3600),
      ...(role.permissions_boundary ? { permissionsBoundary: text(role.permissions_boundary) } : {}),
      ...(tags && Object.keys(tags).length > 0
        ? { tags: Object.fromEntries(Object.entries(tags).map(([k, v]) => [text(k), text(v)])) }
        : {}),
      managedPolicyArns: attachments
        .filter(([, a]) => a.role === roleReference)
        .flatMap(([, a]) => {
          // HCL's string escapes inside the list are JSON's; the template escapes are Terraform's.
          const set = /^\$\{toset\((\[.*\])\)\}$/s.exec(String(a.for_each ?? ""));
          return set ? (JSON.parse(set[1]) as string[]).map(text) : [text(a.policy_arn)];
        }),
      inlinePolicyNames: inline.filter(([, p]) => p.role === roleReference).map(([, p]) => text(p.name)),
      inlinePolicies: Object.fromEntries(
        inline
          .filter(([, p]) => p.role === roleReference)
          .map(([, p]) => [text(p.name), readJsonencode(p.policy as string)]),
      ),
      exclusivePolicyArns: attachmentsExclusive
        .filter(([, e]) => e.role_name === roleReference)
        .flatMap(([, e]) => texts(e.policy_arns)),
      exclusiveInlinePolicyNames: policiesExclusive
        .filter(([, e]) => e.role_name === roleReference)
        .flatMap(([, e]) => texts(e.policy_names)),
      imports: imports.filter((i) => {
        const [type] = i.to.split(".");
        const target = importedResourceName(i.to);
        return type === "aws_iam_role_policy"
          ? inline.some(([n, p]) => n === target && p.role === roleReference)
          : ROLE_IMPORT_TYPES.includes(type) && target === address;
      }),
      trustPolicy: {
        Version: "2012-10-17",
        Statement: ((document.statement ?? []) as Block[]).map(toStatement),
      },
    };
  });
  const kind = created ? "aws_iam_openid_connect_provider" : "data.aws_iam_openid_connect_provider";
  return {
    name,
    ...(provider.allowed_account_ids ? { accountId: texts(provider.allowed_account_ids)[0] } : {}),
    ...(provider.region ? { region: text(provider.region) } : {}),
    providerUrl: text(providerBlock.url),
    providerMode: created ? "create" : "existing",
    providerReference: `\${${kind}.${providerName}.arn}`,
    ...(created ? { providerAudiences: texts(providerBlock.client_id_list) } : {}),
    ...providerImportOf(imports, providerName),
    roles,
  };
}

/** Parses one stack file (HCL via @cdktf/hcl2json, or cdk.tf.json). */
export async function parseStackFile(name: string, file: string): Promise<SynthesizedStack> {
  const text = readFileSync(file, "utf8");
  if (file.endsWith(".json")) return readStackConfiguration(name, JSON.parse(text) as Block);
  const { parse } = await import("@cdktf/hcl2json");
  return readStackConfiguration(name, (await parse(file, text)) as Block);
}

/** Every stack in a synth output directory (`terraform/` or `cdktf.out/`), in manifest order. */
export async function readSynthesizedStacks(outdir: string): Promise<SynthesizedStack[]> {
  const manifestFile = join(outdir, "manifest.json");
  if (!existsSync(manifestFile)) throw new Error(`no ${manifestFile}: run npm run synth first`);
  const manifest = JSON.parse(readFileSync(manifestFile, "utf8")) as {
    stacks: Record<string, { synthesizedStackPath: string }>;
  };
  return Promise.all(
    Object.entries(manifest.stacks)
      // The state bucket's stack (state.type s3) holds no roles: nothing to explain or report.
      .filter(([name]) => name !== STATE_STACK)
      .map(([name, stack]) => parseStackFile(name, join(outdir, stack.synthesizedStackPath))),
  );
}
