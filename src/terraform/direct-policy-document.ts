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
 * while `withDirectBodies` runs (./direct-bodies.ts: the main job's synth), hands cdktf its HCL body as
 * one string: each string through cdktf's own `renderListValue` (its quoting), the attributes in
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
import type { Construct } from "constructs";
import {
  committedValue,
  DIRECT_BODY,
  directBodiesActive,
  renderString,
  resolveOnce,
} from "./direct-bodies";
// A string cdktf's resolve returns as it is: no string, list or map token, no number token (its tests).
import { isPlainKeyOrString } from "./fast-resolve";
import { committedRegion, committedRegionsOpen } from "./formatted-hcl";

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
    const body = directBodiesActive() ? this.directBody() : undefined;
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
    const resolveIdentifiers = (identifiers: unknown): unknown => resolveOnce(stack, identifiers);
    // In its committed form where every value allows (no formatting or unwrapping after), else as
    // cdktf renders it (formatted with the rest of the stack), else cdktf's own path.
    for (const form of committedRegionsOpen(stack) ? [COMMITTED, RAW] : [RAW]) {
      const lines: string[] = [];
      let complete = true;
      for (const statement of this.statements) {
        if (!renderStatement(statement, resolveIdentifiers, form, lines)) {
          complete = false;
          break;
        }
      }
      if (!complete) continue;
      // No statement: "" (cdktf's renderAttributes gives "" for an empty block list, and writes no line).
      if (lines.length === 0) return "";
      const body = lines.join("\n");
      return form === COMMITTED ? committedRegion(stack, body)! : body;
    }
    return undefined;
  }
}

/**
 * How a body's lines are written: as cdktf renders them (no indentation, no alignment; formatHcl lays
 * them out with the rest of the stack), or in their committed form (formatHcl's layout, references
 * unwrapped), which takes only values that formatHcl would leave as they are.
 */
interface BodyForm {
  /** A string value as it is written, or undefined where this form cannot write it. */
  value(text: string): string | undefined;
  /** The indentation of a line at `depth` (the body's own lines are at depth 1). */
  indent(depth: number): string;
  /** Whether the `=` of a run of one-line attributes is aligned (formatHcl's layout). */
  readonly aligned: boolean;
}

const RAW: BodyForm = {
  value: (text) => (isPlainKeyOrString(text) ? renderString(text) : undefined),
  indent: () => "",
  aligned: false,
};

const INDENTS = ["", "  ", "    ", "      ", "        "];

const COMMITTED: BodyForm = {
  value: committedValue,
  indent: (depth) => INDENTS[depth]!,
  aligned: true,
};

/** `[`, the elements at depth + 1, `]` at depth: a string list as `form` writes it; false for anything but strings. */
function pushStrings(values: unknown, form: BodyForm, depth: number, head: string, lines: string[]): boolean {
  if (!Array.isArray(values) || Tokenization.isResolvable(values)) return false;
  const items: string[] = [];
  const indent = form.indent(depth + 1);
  for (const value of values) {
    if (typeof value !== "string") return false;
    const written = form.value(value);
    if (written === undefined) return false;
    items.push(indent + written);
  }
  // No element: an empty line between the brackets, as cdktf renders it.
  lines.push(`${head}[`, items.join(",\n"), `${form.indent(depth)}]`);
  return true;
}

/**
 * Writes one statement's lines (actions, effect, sid, condition blocks, principals blocks, in the
 * provider's order) at depth 1 in `form`; false where the direct body does not apply.
 */
function renderStatement(
  statement: DataAwsIamPolicyDocumentStatement,
  resolveIdentifiers: (identifiers: unknown) => unknown,
  form: BodyForm,
  lines: string[],
): boolean {
  if (Tokenization.isResolvable(statement) || Object.getPrototypeOf(statement) !== Object.prototype) {
    return false;
  }
  for (const [key, value] of Object.entries(statement)) {
    if (value !== undefined && !STATEMENT_KEYS.has(key)) return false;
  }
  const at1 = form.indent(1);
  const at2 = form.indent(2);
  const at3 = form.indent(3);
  lines.push(`${at1}statement {`);
  const first = lines.length;
  if (statement.actions !== undefined) {
    if (!pushStrings(statement.actions, form, 2, `${at2}actions = `, lines)) return false;
  }
  // effect and sid: one run of one-line attributes, `=` aligned in the committed form.
  const width = form.aligned ? (statement.effect !== undefined ? 6 : 3) : 0;
  for (const [name, value] of [
    ["effect", statement.effect],
    ["sid", statement.sid],
  ] as const) {
    if (value === undefined) continue;
    const written = typeof value === "string" ? form.value(value) : undefined;
    if (written === undefined) return false;
    lines.push(`${at2}${name.padEnd(width)} = ${written}`);
  }
  if (statement.condition !== undefined) {
    const ok = eachBlock<Condition>(statement.condition, form, lines, (condition) => {
      const keys = Object.keys(condition);
      if (keys.some((key) => !["test", "values", "variable"].includes(key))) return false;
      const test = typeof condition.test === "string" ? form.value(condition.test) : undefined;
      const variable = typeof condition.variable === "string" ? form.value(condition.variable) : undefined;
      if (test === undefined || variable === undefined) return false;
      lines.push(`${at2}condition {`, `${at3}test = ${test}`);
      if (!pushStrings(condition.values, form, 3, `${at3}values = `, lines)) return false;
      lines.push(`${at3}variable = ${variable}`, `${at2}}`);
      return true;
    });
    if (!ok) return false;
  }
  if (statement.principals !== undefined) {
    const ok = eachBlock<Principals>(statement.principals, form, lines, (principals) => {
      const keys = Object.keys(principals);
      if (keys.some((key) => !["identifiers", "type"].includes(key))) return false;
      const type = typeof principals.type === "string" ? form.value(principals.type) : undefined;
      if (type === undefined) return false;
      lines.push(`${at2}principals {`);
      if (!pushStrings(resolveIdentifiers(principals.identifiers), form, 3, `${at3}identifiers = `, lines)) {
        return false;
      }
      lines.push(`${at3}type = ${type}`, `${at2}}`);
      return true;
    });
    if (!ok) return false;
  }
  // No attribute: an empty line in the block, as cdktf renders it.
  if (lines.length === first) lines.push("");
  lines.push(`${at1}}`);
  return true;
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

/**
 * Calls `write` for each element of a block list (cdktf's renderList); false if any is not a plain
 * object or `write` refuses it. An empty list is an empty line, as cdktf renders it; the committed
 * form refuses it (two in a row would be one blank line after formatHcl).
 */
function eachBlock<T extends object>(
  elements: unknown,
  form: BodyForm,
  lines: string[],
  write: (element: T) => boolean,
): boolean {
  if (!Array.isArray(elements) || Tokenization.isResolvable(elements)) return false;
  if (elements.length === 0) {
    if (form.aligned) return false;
    lines.push("");
    return true;
  }
  for (const element of elements as unknown[]) {
    if (
      typeof element !== "object" ||
      element === null ||
      Tokenization.isResolvable(element) ||
      Object.getPrototypeOf(element) !== Object.prototype
    ) {
      return false;
    }
    if (!write(element as T)) return false;
  }
  return true;
}
