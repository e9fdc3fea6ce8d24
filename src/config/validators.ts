/**
 * Field rules taken from the platforms' own definitions (IAM's API reference patterns, git's and
 * GitLab's name rules). Each returns a message naming the rule that failed, or undefined for a valid
 * value. The schema (YAML configs) and the rules the constructs run (stacks built from code) call the
 * same functions, so the two cannot drift.
 */

/** IAM's tag character class (TagKey / TagValue in the IAM API): letters, spaces, digits and `_.:/=+-@`. */
const TAG_CHARACTER = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]$/u;
/**
 * Tags in ASCII letters, digits, spaces and `_.:/=+-@` only, which TAG_CHARACTER allows: checked first,
 * because compiling TAG_CHARACTER's Unicode classes takes ~0.5 ms, which most configs' tags never need.
 */
const TAG_ASCII = /^[\w .:/=+@-]*$/;
/** IAM's role description pattern (CreateRole `Description`: `[\u0009\u000A\u000D\u0020-\u007E\u00A1-\u00FF]*`). */
const DESCRIPTION_CHARACTER = /^[\t\n\r\x20-\x7e\xa1-\xff]$/;
/** IAM's path pattern (CreateRole `Path`). */
const IAM_PATH = /^\/$|^\/[\x21-\x7E]+\/$/;
/** A Terraform template sequence: `${…}` (interpolation) or `%{…}` (directive). */
const TEMPLATE = /[$%]\{/;

export const PARTITIONS = ["aws", "aws-cn", "aws-us-gov"] as const;
/** IAM's name character class `[\w+=,.@-]`, shared by role, inline policy and session names. */
export const IAM_NAME = /^[\w+=,.@-]+$/;

const SURROGATE = /[\ud800-\udfff]/;

/** Code points, not UTF-16 units: IAM counts characters. (Without a surrogate, one per unit.) */
function characters(value: string): number {
  return SURROGATE.test(value) ? [...value].length : value.length;
}

/** `U+200B`: how a message shows a character a reviewer may not see. */
export function codePoint(char: string): string {
  return `U+${char.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0")}`;
}

/** `/^[…]$/` (one character) → `/^[…]*$/`: every character of a string in the class, in one match. */
const everyCharacter = new WeakMap<RegExp, RegExp>();

/**
 * The first character (code point) of `value` that `allowed`, a one-character pattern `/^[…]$/`, does
 * not match. Checked first in one match of the whole string (these run for every role of a config); a
 * string that passes it has no character the scan would find: with the `u` flag both go by code point,
 * and without it a class of single units matches no surrogate, so a string with one fails the match.
 * `commonOnly`, a whole-string pattern of characters `allowed` matches, is tried before both.
 */
function firstOutside(value: string, allowed: RegExp, commonOnly?: RegExp): string | undefined {
  if (commonOnly?.test(value)) return undefined;
  let all = everyCharacter.get(allowed);
  if (all === undefined) {
    const one = /^\^(\[.*\])\$$/.exec(allowed.source);
    if (!one) throw new Error(`firstOutside: ${String(allowed)} is not a one-character class /^[…]$/`);
    all = new RegExp(`^${one[1]}*$`, allowed.flags);
    everyCharacter.set(allowed, all);
  }
  if (all.test(value)) return undefined;
  return [...value].find((char) => !allowed.test(char));
}

export function roleNameProblem(name: string): string | undefined {
  if (name.length < 1 || name.length > 64) return "an IAM role name is 1–64 characters";
  if (!IAM_NAME.test(name)) return "an IAM role name may contain only letters, digits and + = , . @ _ -";
  return undefined;
}

export function tagKeyProblem(key: string): string | undefined {
  const length = characters(key);
  if (length < 1 || length > 128) return `a tag key is 1–128 characters (IAM), got ${length}`;
  if (key.toLowerCase().startsWith("aws:")) return `tag keys cannot start with "aws:" (reserved for AWS)`;
  const bad = firstOutside(key, TAG_CHARACTER, TAG_ASCII);
  if (bad !== undefined) return `tag key contains ${describe(bad)}; ${TAG_RULE}`;
  return undefined;
}

export function tagValueProblem(value: string): string | undefined {
  const length = characters(value);
  if (length > 256) return `a tag value is at most 256 characters (IAM), got ${length}`;
  const bad = firstOutside(value, TAG_CHARACTER, TAG_ASCII);
  if (bad !== undefined) return `tag value contains ${describe(bad)}; ${TAG_RULE}`;
  return undefined;
}

const TAG_RULE = "IAM allows only letters, digits, spaces and _ . : / = + - @ in tags";

/** Every problem of a tag map, keyed by the tag key (the field the problem is at). */
export function tagsProblems(tags: Readonly<Record<string, string>>): [string, string][] {
  const problems: [string, string][] = [];
  const entries = Object.entries(tags);
  if (entries.length > 50) problems.push(["", `${entries.length} tags; IAM allows at most 50 per resource`]);
  for (const [key, value] of entries) {
    const problem = tagKeyProblem(key) ?? tagValueProblem(value);
    if (problem !== undefined) problems.push([key, problem]);
  }
  return problems;
}

export function descriptionProblem(description: string): string | undefined {
  const length = characters(description);
  if (length > 1000) return `a role description is at most 1000 characters (IAM), got ${length}`;
  const bad = firstOutside(description, DESCRIPTION_CHARACTER);
  if (bad !== undefined) {
    return `the description contains ${describe(bad)}; IAM allows tab, newlines, printable ASCII and Latin-1 (U+00A1–U+00FF) only`;
  }
  return undefined;
}

export function iamPathProblem(path: string): string | undefined {
  if (path.length > 512) return `an IAM path is at most 512 characters, got ${path.length}`;
  if (!IAM_PATH.test(path)) {
    return 'an IAM path must be "/" or start and end with "/", e.g. /gitlab/, with printable ASCII and no spaces between (IAM: ^/$|^/[\\x21-\\x7E]+/$)';
  }
  if (TEMPLATE.test(path)) return 'an IAM path cannot contain "${" or "%{" (a Terraform template)';
  return undefined;
}

export interface ArnExpectation {
  /** What the ARN is, for messages: "the deploy role". */
  readonly what: string;
  /** `policy` or `role`. */
  readonly resourceType: "policy" | "role";
  /** The partition the ARN must be in (the account's). */
  readonly partition: string;
  /** The account the ARN must be in; AWS managed policies (`aws`) are allowed where `allowAwsManaged`. */
  readonly accountId: string;
  readonly allowAwsManaged: boolean;
}

const RESOURCE_NAME = { policy: /^[\w+=,.@-]{1,128}$/, role: /^[\w+=,.@-]{1,64}$/ } as const;

/**
 * An IAM ARN, part by part: `arn:<partition>:iam::<account>:<type>/<path/><name>`. The message names the
 * part that is wrong.
 */
export function iamArnProblem(arn: string, expected: ArnExpectation): string | undefined {
  const example = `arn:${expected.partition}:iam::${expected.allowAwsManaged ? "aws" : expected.accountId}:${expected.resourceType}/Name`;
  const parts = arn.split(":");
  if (expected.allowAwsManaged && expected.resourceType === "policy" && /^[\w+=,.@/-]+$/.test(arn)) {
    const name = arn.replace(/^\/+/, "");
    return `"${arn}" is a policy name, not an ARN: an AWS managed policy is arn:${expected.partition}:iam::aws:policy/${name}, one of this account's arn:${expected.partition}:iam::${expected.accountId}:policy/${name}`;
  }
  if (parts.length !== 6 || parts[0] !== "arn") {
    return `"${arn}" is not an ARN; write arn:<partition>:iam::<account>:${expected.resourceType}/<name>, e.g. ${example}`;
  }
  const [, partition, service, region, account, resource] = parts;
  if (!(PARTITIONS as readonly string[]).includes(partition)) {
    return `partition "${partition}" of "${arn}" is not one of ${PARTITIONS.join(", ")}`;
  }
  if (partition !== expected.partition) {
    return `"${arn}" is in partition ${partition}, but the account is in ${expected.partition}`;
  }
  if (service !== "iam")
    return `service "${service}" of "${arn}" must be iam (an IAM ${expected.resourceType})`;
  if (region !== "") return `"${arn}" names region "${region}", but IAM ARNs have none (iam::)`;
  if (account === "aws") {
    if (!expected.allowAwsManaged) return `"${arn}" must be in account ${expected.accountId}, not aws`;
  } else if (!/^\d{12}$/.test(account)) {
    return `account "${account}" of "${arn}" must be 12 digits${expected.allowAwsManaged ? ' or "aws"' : ""}`;
  } else if (account !== expected.accountId) {
    return `${expected.what} is in account ${account}, but this stack manages ${expected.accountId}; use a ${expected.resourceType} in ${expected.accountId}${expected.allowAwsManaged ? " or an AWS managed one" : ""} (${arn})`;
  }
  const slash = resource.indexOf("/");
  const type = slash === -1 ? resource : resource.slice(0, slash);
  if (type !== expected.resourceType) {
    return `resource type "${type}" of "${arn}" must be ${expected.resourceType}`;
  }
  const rest = resource.slice(slash + 1);
  const cut = rest.lastIndexOf("/");
  const path = `/${rest.slice(0, cut + 1)}`;
  const name = rest.slice(cut + 1);
  const pathProblem = path === "/" ? undefined : iamPathProblem(path);
  if (pathProblem !== undefined) return `path of "${arn}": ${pathProblem}`;
  if (!RESOURCE_NAME[expected.resourceType].test(name)) {
    return `name "${name}" of "${arn}" must be 1–${expected.resourceType === "role" ? 64 : 128} letters, digits or + = , . @ _ -`;
  }
  return undefined;
}

/**
 * Non-ASCII characters that look like an ASCII one but are not (Unicode's confusables for the Latin
 * letters, digits and the path punctuation, from the scripts that have them: Cyrillic, Greek,
 * Armenian, Latin extensions). Characters whose NFKC form is ASCII (fullwidth, mathematical letters,
 * ligatures) are caught by normalization instead.
 */
const LOOKALIKES: Readonly<Record<string, string>> = Object.fromEntries(
  Object.entries({
    a: "аɑα",
    c: "сϲ",
    d: "ԁ",
    e: "еҽ",
    g: "ɡ",
    h: "һհ",
    i: "іıιӏ",
    j: "јȷϳ",
    k: "κ",
    l: "ӏ",
    n: "ոη",
    o: "оοօσ",
    p: "рρ",
    q: "ԛ",
    s: "ѕ",
    u: "սυ",
    v: "νѵ",
    w: "ԝѡ",
    x: "хχ",
    y: "уγ",
    A: "АΑ",
    B: "ВΒ",
    C: "СϹ",
    E: "ЕΕ",
    H: "НΗ",
    I: "ІΙӀ",
    J: "Ј",
    K: "КΚ",
    M: "МΜ",
    N: "Ν",
    O: "ОΟՕ",
    P: "РΡ",
    Q: "Ԛ",
    S: "Ѕ",
    T: "ТΤ",
    W: "Ԝ",
    X: "ХΧ",
    Y: "УΥ",
    Z: "Ζ",
    "-": "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u2043\uFE63",
    "/": "\u2044\u2215\u29F8\u2571",
    ".": "\u2024\u00B7\u2027",
    ":": "\u0589\u05C3\u2236\uA789",
    _: "\u02CD",
  }).flatMap(([ascii, lookalikes]) => [...lookalikes].map((char) => [char, ascii])),
);

/** The ASCII character `char` can be mistaken for, if any. */
function asciiLookalike(char: string): string | undefined {
  const normalized = char.normalize("NFKC");
  if (normalized !== char && /^[\x20-\x7e]+$/.test(normalized)) return normalized;
  return LOOKALIKES[char];
}

/** `U+200B (a format character, invisible)`: what a message shows of a character. */
function describe(char: string): string {
  const at = codePoint(char);
  if (/\p{Cf}/u.test(char)) return `${at} (an invisible format character)`;
  if (/\p{M}/u.test(char)) return `${at} (a combining mark)`;
  if (/[\p{Z}\s]/u.test(char)) return `${at} (a space character)`;
  if (/\p{C}/u.test(char)) return `${at} (a control, private-use or unassigned character)`;
  const ascii = asciiLookalike(char);
  if (ascii !== undefined) return `${at} ("${char}", which looks like ASCII "${ascii}")`;
  return `${at} (${JSON.stringify(char)})`;
}

/**
 * Characters that make a name read as something it is not, in fields that select who gets a role
 * (branch and tag patterns, audiences): format characters (Cf, including the bidi controls and the
 * zero-width space), combining marks (M), non-ASCII spaces and controls, and non-ASCII look-alikes of
 * ASCII characters. Other non-ASCII letters and digits are allowed: git and GitLab accept UTF-8 ref names
 * (`fix/größe`), and they cannot be mistaken for an ASCII name.
 */
export function misleadingCharacterProblem(value: string): string | undefined {
  for (const char of value) {
    if (char <= "\x7f") continue;
    if (/[\p{Cf}\p{M}\p{Z}\p{C}]/u.test(char) || asciiLookalike(char) !== undefined) {
      return `contains ${describe(char)}, which a reviewer cannot tell apart from what it looks like; write the name in plain characters`;
    }
  }
  return undefined;
}

/**
 * GitLab project and group paths are ASCII (letters, digits, `_`, `.`, `-`); a non-ASCII character is
 * always a mistake or a disguise, so the message shows its code point.
 */
export function nonAsciiPathProblem(path: string): string | undefined {
  const bad = [...path].find((char) => char > "\x7f");
  return bad === undefined
    ? undefined
    : `contains ${describe(bad)}; GitLab paths are ASCII letters, digits, _ . - and /`;
}

/** An `https://` URL with a host, an optional port and path, and no trailing slash or query. */
const HTTPS_URL = /^https:\/\/[A-Za-z0-9.-]+(:\d+)?(\/[A-Za-z0-9._~%!$&'()*+,;=:@-]+)*$/;

export function httpsUrlProblem(what: string, value: string): string | undefined {
  if (!value.startsWith("https://")) return `${what} must start with https:// (got "${value}")`;
  if (value.endsWith("/")) return `${what} must not end with a slash: use "${value.replace(/\/+$/, "")}"`;
  if (!HTTPS_URL.test(value) || TEMPLATE.test(value)) {
    return `${what} must be https://host[:port][/path] with no query, fragment, spaces or templates (got "${value}")`;
  }
  // Host names are case-insensitive, but the condition keys and the gitlab.com rules (ID pinning,
  // ref_protected) compare the host as written: `GitLab.com` would quietly lose them.
  const host = value.slice("https://".length).split(/[/:]/)[0];
  if (host !== host.toLowerCase() || host.endsWith(".")) {
    const fixed = host.toLowerCase().replace(/\.+$/, "");
    return `${what} must name the host in lowercase without a trailing dot, as tokens' iss does: use "${value.replace(host, fixed)}"`;
  }
  return undefined;
}

/** An audience (OIDC client ID): IAM allows 1–255 characters; ours are also free of quotes and templates. */
export function audienceProblem(audience: string): string | undefined {
  if (audience.length < 1 || audience.length > 255) return "an audience is 1–255 characters (IAM)";
  if (/["\\${}\s]/.test(audience)) {
    return `audience "${audience}" cannot contain quotes, backslashes, $, {, } or spaces`;
  }
  const misleading = misleadingCharacterProblem(audience);
  return misleading === undefined ? undefined : `audience ${misleading}`;
}

/**
 * S3's rules for a general purpose bucket name, plus one of ours: no dots. Terraform's S3 backend
 * addresses the bucket as `<bucket>.s3.<region>.amazonaws.com`, and a dot there breaks the TLS
 * certificate match (S3 recommends against dots for that reason).
 */
export function s3BucketNameProblem(name: string): string | undefined {
  if (name.length < 3 || name.length > 63)
    return `a bucket name is 3–63 characters ("${name}" has ${name.length})`;
  if (name.includes(".")) {
    return "a state bucket name must not contain dots: Terraform reaches the bucket as <bucket>.s3.<region>.amazonaws.com, where a dot breaks TLS; use - instead";
  }
  if (!/^[a-z0-9][a-z0-9-]*[a-z0-9]$/.test(name)) {
    return "a bucket name holds lowercase letters, digits and -, and starts and ends with a letter or digit (S3's rule)";
  }
  for (const prefix of ["xn--", "sthree-", "amzn-s3-demo-"]) {
    if (name.startsWith(prefix)) return `a bucket name cannot start with "${prefix}" (S3 reserves it)`;
  }
  for (const suffix of ["-s3alias", "--ol-s3", "--x-s3", "--table-s3"]) {
    if (name.endsWith(suffix)) return `a bucket name cannot end with "${suffix}" (S3 reserves it)`;
  }
  return undefined;
}

/**
 * The prefix of the state objects' keys. Only S3's "safe" characters (letters, digits, `! - _ . ' ( ) /`)
 * and no `*` or `?`: the keys become resources in the generated IAM policies, where those are wildcards.
 */
export function s3KeyPrefixProblem(prefix: string): string | undefined {
  if (prefix.length > 512) return "keyPrefix can be at most 512 characters";
  if (!/^[A-Za-z0-9!_.'()/-]*$/.test(prefix)) {
    return "keyPrefix may hold letters, digits and ! - _ . ' ( ) / only (no * or ?, which IAM policies read as wildcards)";
  }
  if (prefix.startsWith("/")) return 'keyPrefix must not start with "/" (S3 keys have no leading slash)';
  if (
    prefix
      .split("/")
      .some(
        (part, i, parts) => part === "." || part === ".." || (part === "" && i > 0 && i < parts.length - 1),
      )
  ) {
    return 'keyPrefix must not contain ".", ".." or empty segments ("//")';
  }
  return undefined;
}

/** A KMS key ARN: `arn:<partition>:kms:<region>:<account>:key/<key id>` (an alias cannot be granted). */
export function kmsKeyArnProblem(arn: string): string | undefined {
  const match =
    /^arn:([a-z-]+):kms:([a-z]{2}(?:-[a-z]+)+-\d+):(\d{12}):key\/((?:mrk-)?[0-9a-f-]{32,36})$/.exec(arn);
  if (match === null) {
    return `"${arn}" is not a KMS key ARN; write arn:aws:kms:<region>:<account>:key/<key id> (an alias cannot be named in the generated policies)`;
  }
  if (!(PARTITIONS as readonly string[]).includes(match[1]!))
    return `partition "${match[1]}" of "${arn}" is not one of ${PARTITIONS.join(", ")}`;
  return undefined;
}
