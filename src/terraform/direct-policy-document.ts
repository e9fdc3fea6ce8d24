/**
 * The trust policy's data source (`data "aws_iam_policy_document"`), its HCL written directly.
 *
 * Every role has one, and they are most of a stack: at 5,000 roles cdktf spent ~1.4 s of a 5.8 s synth
 * turning their statements into its typed attribute tree (the provider's `…ToHclTerraform`), resolving
 * that tree and rendering it (`cdktf/lib/hcl/render.js`, `renderAttributes`). The statements are plain
 * strings but for the principals' identifiers (the provider's ARN, a reference), so their HCL is the
 * same few shapes every time:
 *
 *     statement {               condition {            principals {
 *     actions = [               test = "…"             identifiers = [
 *     "…"                       values = [             "${…}"
 *     ]                         "…",                   ]
 *     effect = "…"              "…"                    type = "…"
 *     sid = "…"                 ]                      }
 *     condition { … }           variable = "…"
 *     principals { … }          }
 *     }
 *
 * `DirectPolicyDocument` is cdktf's DataAwsIamPolicyDocument (the same construct, JSON and metadata) that,
 * while `withDirectPolicyDocuments` runs (the main job's synth, ./cdktf-hooks.ts), hands cdktf its HCL
 * body as one string: each string through cdktf's own `renderListValue` (its quoting), the attributes in
 * the provider's order, the identifiers resolved by cdktf in the stack; cdktf's `renderDatasource` is
 * told to write that body as it is. Anything the direct body does not cover (another attribute, a
 * meta-argument, an override, a token or anything but a string where a string goes, a statement key
 * beyond those above) falls back to cdktf's own path for that document. Byte-identical to stock cdktf
 * (test/cdktf-hooks.test.ts: the fixtures, generated configs and random hostile statements).
 */
import {
  DataAwsIamPolicyDocument,
  type DataAwsIamPolicyDocumentStatement,
} from "@cdktf/provider-aws/lib/data-aws-iam-policy-document";
import { TerraformStack, Tokenization } from "cdktf";
import { resolve as resolveInStack } from "cdktf/lib/_tokens";
// The module object itself, which cdktf's stack calls `renderDatasource` through.
// eslint-disable-next-line @typescript-eslint/no-require-imports
import render = require("cdktf/lib/hcl/render");
import type { Construct } from "constructs";
// A string cdktf's resolve returns as it is: no string, list or map token, no number token (its tests).
import { isPlainKeyOrString } from "./fast-resolve";
import { withReplaced } from "./scoped-patch";

/** The key of the direct body in the data source's fragment: no provider attribute is named so. */
const DIRECT_BODY = "gitlab_oidc_direct_hcl_body";

/** Whether toHclTerraform hands cdktf the direct body (withDirectPolicyDocuments is running). */
let direct = false;

/**
 * The identifiers lists resolved in each stack while withDirectPolicyDocuments runs, by their strings:
 * cdktf resolves a token to the same text wherever it stands in one stack's attributes.
 */
let resolvedIdentifiers = new WeakMap<TerraformStack, Map<string, unknown>>();

/** The statement keys the direct body writes, in the provider's attribute order. */
const STATEMENT_KEYS = new Set(["actions", "effect", "sid", "condition", "principals"]);

/** The props of a DirectPolicyDocument: its statements (the data source's other settings are not used). */
export interface DirectPolicyDocumentConfig {
  /** The statements, as DataAwsIamPolicyDocument takes them. */
  readonly statement: DataAwsIamPolicyDocumentStatement[];
}

export class DirectPolicyDocument extends DataAwsIamPolicyDocument {
  private readonly statements: DataAwsIamPolicyDocumentStatement[];

  constructor(scope: Construct, id: string, config: DirectPolicyDocumentConfig) {
    super(scope, id, { statement: config.statement });
    this.statements = config.statement;
  }

  public override toHclTerraform(): Record<string, unknown> {
    const body = direct ? this.directBody() : undefined;
    if (body === undefined) return super.toHclTerraform();
    return {
      data: {
        [this.terraformResourceType]: {
          [this.friendlyUniqueId]: { [DIRECT_BODY]: body, "//": this.constructNodeMetadata },
        },
      },
    };
  }

  /** The HCL between the data source's braces as cdktf renders it, or undefined where it does not apply. */
  private directBody(): string | undefined {
    const self = this as unknown as Record<string, unknown>;
    const settings = ["_id", "_overrideJson", "_overridePolicyDocuments", "_policyId", "_sourceJson"];
    if ([...settings, "_sourcePolicyDocuments", "_version"].some((key) => self[key] !== undefined)) {
      return undefined;
    }
    if ((self._statement as { internalValue?: unknown }).internalValue !== this.statements) return undefined;
    if (Object.keys(this.rawOverrides).length > 0) return undefined;
    const meta = this.terraformMetaArguments as Record<string, unknown>;
    if (Object.values(meta).some((value) => value !== undefined)) return undefined;
    const stack = TerraformStack.of(this);
    // Every statement names the same provider: its ARN (a reference) is resolved once per stack.
    let resolved = resolvedIdentifiers.get(stack);
    if (!resolved) resolvedIdentifiers.set(stack, (resolved = new Map()));
    const resolveIdentifiers = (identifiers: unknown): unknown => {
      if (!Array.isArray(identifiers) || !identifiers.every((id) => typeof id === "string")) {
        return resolveInStack(stack, identifiers);
      }
      const key = JSON.stringify(identifiers);
      if (!resolved.has(key)) resolved.set(key, resolveInStack(stack, identifiers));
      return resolved.get(key);
    };
    const lines: string[] = [];
    for (const statement of this.statements) {
      const rendered = renderStatement(statement, resolveIdentifiers);
      if (rendered === undefined) return undefined;
      lines.push(`statement {\n${rendered}\n}`);
    }
    // No statement: "" (cdktf's renderAttributes gives "" for an empty block list, and writes no line).
    return lines.join("\n");
  }
}

/** A string as cdktf renders a string list's element (its renderString: quotes, heredocs). */
const renderString = (value: string): string => render.renderListValue(value, "stringList") as string;

/** `[\n"a",\n"b"\n]`: a string list as cdktf renders it; undefined for anything but strings. */
function renderStrings(values: unknown): string | undefined {
  if (!Array.isArray(values) || Tokenization.isResolvable(values)) return undefined;
  const items: string[] = [];
  for (const value of values) {
    if (typeof value !== "string" || !isPlainKeyOrString(value)) return undefined;
    items.push(renderString(value));
  }
  return `[\n${items.join(",\n")}\n]`;
}


/** `name = "value"` for a plain string, undefined otherwise. */
function stringAttribute(name: string, value: unknown): string | undefined {
  return typeof value === "string" && isPlainKeyOrString(value) ? `${name} = ${renderString(value)}` : undefined;
}

/**
 * One statement's attributes as cdktf renders them (actions, effect, sid, condition blocks, principals
 * blocks, in the provider's order), or undefined where the direct body does not apply.
 */
function renderStatement(
  statement: DataAwsIamPolicyDocumentStatement,
  resolveIdentifiers: (identifiers: unknown) => unknown,
): string | undefined {
  if (Tokenization.isResolvable(statement) || Object.getPrototypeOf(statement) !== Object.prototype) {
    return undefined;
  }
  for (const [key, value] of Object.entries(statement)) {
    if (value !== undefined && !STATEMENT_KEYS.has(key)) return undefined;
  }
  const attributes: string[] = [];
  if (statement.actions !== undefined) {
    const actions = renderStrings(statement.actions);
    if (actions === undefined) return undefined;
    attributes.push(`actions = ${actions}`);
  }
  for (const [name, value] of [
    ["effect", statement.effect],
    ["sid", statement.sid],
  ] as const) {
    if (value === undefined) continue;
    const attribute = stringAttribute(name, value);
    if (attribute === undefined) return undefined;
    attributes.push(attribute);
  }
  if (statement.condition !== undefined) {
    const blocks = renderBlocks<Condition>("condition", statement.condition, (condition) => {
      const keys = Object.keys(condition);
      if (keys.some((key) => !["test", "values", "variable"].includes(key))) return undefined;
      const test = stringAttribute("test", condition.test);
      const values = renderStrings(condition.values);
      const variable = stringAttribute("variable", condition.variable);
      if (test === undefined || values === undefined || variable === undefined) return undefined;
      return `${test}\nvalues = ${values}\n${variable}`;
    });
    if (blocks === undefined) return undefined;
    attributes.push(blocks);
  }
  if (statement.principals !== undefined) {
    const blocks = renderBlocks<Principals>("principals", statement.principals, (principals) => {
      const keys = Object.keys(principals);
      if (keys.some((key) => !["identifiers", "type"].includes(key))) return undefined;
      const identifiers = renderStrings(resolveIdentifiers(principals.identifiers));
      const type = stringAttribute("type", principals.type);
      if (identifiers === undefined || type === undefined) return undefined;
      return `identifiers = ${identifiers}\n${type}`;
    });
    if (blocks === undefined) return undefined;
    attributes.push(blocks);
  }
  return attributes.join("\n");
}

interface Condition {
  readonly test?: unknown;
  readonly values?: unknown;
  readonly variable?: unknown;
}

interface Principals {
  readonly identifiers?: unknown;
  readonly type?: unknown;
}

/** `name {\n…\n}` per element, joined by newlines (cdktf's renderList of a block list). */
function renderBlocks<T extends object>(
  name: string,
  elements: unknown,
  renderElement: (element: T) => string | undefined,
): string | undefined {
  if (!Array.isArray(elements) || Tokenization.isResolvable(elements)) return undefined;
  const blocks: string[] = [];
  for (const element of elements as unknown[]) {
    if (
      typeof element !== "object" ||
      element === null ||
      Tokenization.isResolvable(element) ||
      Object.getPrototypeOf(element) !== Object.prototype
    ) {
      return undefined;
    }
    const rendered = renderElement(element as T);
    if (rendered === undefined) return undefined;
    blocks.push(`${name} {\n${rendered}\n}`);
  }
  return blocks.join("\n");
}

type RenderDatasource = typeof render.renderDatasource;

/**
 * Runs `work` with DirectPolicyDocuments handing cdktf their direct body, and cdktf's renderDatasource
 * writing a body it is handed as it is; restored when `work` returns or throws.
 */
export function withDirectPolicyDocuments<T>(work: () => T): T {
  const stock = render.renderDatasource;
  const renderDatasource: RenderDatasource = (dataSource) => {
    const [type, byName] = Object.entries(dataSource as Record<string, Record<string, unknown>>)[0]!;
    const [name, attributes] = Object.entries(byName)[0]! as [string, Record<string, unknown>];
    const body = attributes[DIRECT_BODY];
    if (typeof body !== "string") return stock(dataSource);
    return {
      hcl: [`data "${type}" "${name}" {`, ...(body ? [body] : []), "}"].join("\n"),
      metadata: { data: { [type]: { [name]: { "//": attributes["//"] } } } },
    };
  };
  const previous = direct;
  direct = true;
  try {
    return withReplaced(render as { renderDatasource: RenderDatasource }, "renderDatasource", renderDatasource, work);
  } finally {
    direct = previous;
    if (!previous) resolvedIdentifiers = new WeakMap();
  }
}
