import {
  DataAwsIamPolicyDocument,
  type DataAwsIamPolicyDocumentStatement,
} from "@cdktf/provider-aws/lib/data-aws-iam-policy-document";
import { IamOpenidConnectProvider } from "@cdktf/provider-aws/lib/iam-openid-connect-provider";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import {
  App,
  DefaultTokenResolver,
  Fn,
  Lazy,
  StringConcat,
  TerraformOutput,
  TerraformStack,
  Token,
  Tokenization,
} from "cdktf";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateConfig, generateLock } from "../bench/generate";
import { loadConfigFile } from "../src/config/load";
import type { Config } from "../src/config/schema";
import { lockPathFor } from "../src/gitlab/lock";
import { buildApp } from "../src/synth";
import { SkippedPrepareError, withFastCdktf } from "../src/terraform/cdktf-hooks";
import {
  DirectRolePoliciesExclusive,
  DirectRolePolicyAttachmentsExclusive,
} from "../src/terraform/direct-exclusive";
import { DirectPolicyDocument } from "../src/terraform/direct-policy-document";
import { isPlainArgument } from "../src/terraform/fast-expression-args";
import { cdktfOwnResolve, fastResolve, withFastResolve } from "../src/terraform/fast-resolve";
import { committedHcl, withFormattedHcl } from "../src/terraform/formatted-hcl";
import { withoutStackCapture } from "../src/terraform/stack-capture";
import { filesUnder } from "./support/configs";
import { breadth } from "./support/breadth";
import { randomText, seeded } from "./support/seeded";

const FIXTURES = join(__dirname, "fixtures", "configs");

let scratch: string;
beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), "gitlab-oidc-hooks-"));
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** A stack to resolve in, and cdktf's default resolver. */
function resolveOptions(preparing = false) {
  const app = new App({ outdir: mkdtempSync(join(scratch, "app-")) });
  const scope = new TerraformStack(app, "s");
  return { scope, resolver: new DefaultTokenResolver(new StringConcat()), preparing };
}

/** A string token whose producer counts its calls: proof that cdktf's resolver reached it. */
function countingToken(value: string): { token: string; calls: () => number } {
  let calls = 0;
  const token = Lazy.stringValue({
    produce: () => {
      calls++;
      return value;
    },
  });
  return { token, calls: () => calls };
}

describe("fastResolve: what cdktf's resolve returns, cdktf resolving every token", () => {
  test("GIVEN plain data WHEN resolved THEN equal to cdktf's, a fresh copy, undefined values dropped", () => {
    const options = resolveOptions();
    const input = {
      a: "x",
      b: { c: undefined, d: null, e: true, f: ["p", undefined, "q"] },
      "quoted key": [{ g: "release-e-1", h: "" }],
    };
    const fast = fastResolve(input, options) as typeof input;
    expect(fast).toStrictEqual(cdktfOwnResolve(input, options));
    expect(fast).toStrictEqual({
      a: "x",
      b: { d: null, e: true, f: ["p", "q"] },
      "quoted key": [{ g: "release-e-1", h: "" }],
    });
    expect(fast.b).not.toBe(input.b);
    expect(fast["quoted key"][0]).not.toBe(input["quoted key"][0]);
  });

  test("GIVEN a token deep in an otherwise plain subtree THEN cdktf's resolver resolves it, once", () => {
    // GIVEN a string token inside a string, three levels down
    const { token, calls } = countingToken("v");
    const input = { a: { b: ["plain", `arn:${token}:x`], c: "plain" } };
    // WHEN resolved on the fast path
    const fast = fastResolve(input, resolveOptions());
    // THEN the token was resolved by cdktf (its producer ran) and the rest copied
    expect(fast).toStrictEqual({ a: { b: ["plain", "arn:v:x"], c: "plain" } });
    expect(calls()).toBe(1);
  });

  test.each([
    ["a number token", () => ({ n: Token.asNumber(Lazy.numberValue({ produce: () => 42 })) })],
    ["a plain number", () => ({ n: [1, 2.5] })],
    ["a number list token", () => ({ l: Token.asNumberList(Lazy.anyValue({ produce: () => [1, 2] })) })],
    ["a list token", () => ({ l: Token.asList(Lazy.anyValue({ produce: () => ["a", "b"] })) })],
    ["a map token key", () => ({ m: Token.asStringMap(Lazy.anyValue({ produce: () => ({ k: "v" }) })) })],
    ["an IResolvable object", () => ({ r: [Lazy.anyValue({ produce: () => ({ k: "v" }) })] })],
    ["a function call token", () => ({ j: Fn.jsonencode({ a: "b", c: ["d"] }) })],
    ["a string the number-token pattern matches", () => ({ s: "1e5 and 2e-3" })],
    ["a map token value", () => ({ s: [Token.STRING_MAP_TOKEN_VALUE] })],
    ["the any-map token value", () => ({ s: Token.ANY_MAP_TOKEN_VALUE })],
    [
      "a number token inside a string",
      () => ({ s: `n-${Token.asNumber(Lazy.numberValue({ produce: () => 7 }))}` }),
    ],
    [
      "a list token among strings",
      () => ({ l: ["a", Token.asList(Lazy.anyValue({ produce: () => ["b"] }))[0]] }),
    ],
    ["an object with a resolve method", () => ({ r: { resolve: () => "resolved", other: "x" } })],
  ])("GIVEN %s THEN the result is cdktf's", (_, make) => {
    const options = resolveOptions();
    // One input for both: each token made has its own number.
    const input = make();
    const stock = (() => {
      try {
        return { value: cdktfOwnResolve(input, options) };
      } catch (error) {
        return { error: (error as Error).message };
      }
    })();
    const fast = (() => {
      try {
        return { value: fastResolve(input, options) };
      } catch (error) {
        return { error: (error as Error).message };
      }
    })();
    expect(fast).toStrictEqual(stock);
  });

  test("GIVEN a function or a cyclic structure THEN cdktf's own error", () => {
    const options = resolveOptions();
    const withFunction = { a: { f: () => 1 } };
    const cyclic: Record<string, unknown> = { a: {} };
    (cyclic.a as Record<string, unknown>).self = cyclic;
    for (const input of [withFunction, cyclic]) {
      let stockError = "";
      try {
        cdktfOwnResolve(input, options);
      } catch (error) {
        stockError = (error as Error).message;
      }
      expect(stockError).not.toBe("");
      expect(() => fastResolve(input, options)).toThrow(stockError);
    }
  });

  test("GIVEN withFastResolve WHEN work throws THEN the error propagates and cdktf's resolve is restored", () => {
    const before = Tokenization.resolve;
    expect(() =>
      withFastResolve(() => {
        expect(Tokenization.resolve).not.toBe(before);
        throw new Error("inside");
      }),
    ).toThrow("inside");
    expect(Tokenization.resolve).toBe(before);
  });
});

describe("withoutStackCapture", () => {
  test("GIVEN a token made inside THEN its creation stack is empty; made outside, recorded as before", () => {
    const inside = withoutStackCapture(() => Lazy.anyValue({ produce: () => "x" }));
    expect(inside.creationStack).toEqual([]);
    expect(Lazy.anyValue({ produce: () => "x" }).creationStack.length).toBeGreaterThan(0);
  });
});

/** Every file an App wrote, by path relative to its outdir. */
function written(dir: string): Record<string, string> {
  return Object.fromEntries(filesUnder(dir).map((file) => [file, readFileSync(join(dir, file), "utf8")]));
}

/**
 * The files of one stack (with an AWS provider) that `build` fills, synthesized by stock cdktf or, with
 * `fast`, under the main job's hooks (withFastCdktf), in HCL or JSON.
 */
function oneStackFiles(
  label: string,
  format: boolean | "committed",
  fast: boolean,
  build: (stack: TerraformStack) => void,
  committedRegions: number[] = [],
): Record<string, string> {
  const hcl = format !== false;
  const dir = mkdtempSync(join(scratch, `${label}-${fast}-`));
  // cdktf's App and stacks read the format from this variable while they are constructed.
  const previous = process.env.SYNTH_HCL_OUTPUT;
  process.env.SYNTH_HCL_OUTPUT = String(hcl);
  try {
    const app = new App({ outdir: dir, hclOutput: hcl });
    const stack = new TerraformStack(app, "stack");
    new AwsProvider(stack, "aws", { region: "eu-west-1" });
    build(stack);
    // "committed": the main job's synth (formatted as rendered) against stock cdktf's, formatted after.
    if (fast && format === "committed") {
      withFormattedHcl(
        (_stack, _hcl, regions) => committedRegions.push(regions),
        () => withFastCdktf(() => app.synth()),
      );
    } else if (fast) withFastCdktf(() => app.synth());
    else app.synth();
  } finally {
    if (previous === undefined) delete process.env.SYNTH_HCL_OUTPUT;
    else process.env.SYNTH_HCL_OUTPUT = previous;
  }
  const files = written(dir);
  if (format !== "committed" || fast) return files;
  return Object.fromEntries(
    Object.entries(files).map(([file, text]) => [file, file.endsWith(".tf") ? committedHcl(text) : text]),
  );
}

/** What `synth` gives: its files, or the message it failed with (to compare two paths' failures too). */
function outcomeOf(synth: () => Record<string, string>): Record<string, string> | { error: string } {
  try {
    return synth();
  } catch (error) {
    return { error: (error as Error).message };
  }
}

/** Two stacks, the second referring to a resource of the first: a cross-stack reference. */
function crossStackApp(outdir: string): App {
  const app = new App({ outdir, stackTraces: false });
  const first = new TerraformStack(app, "first");
  new AwsProvider(first, "aws", { region: "eu-west-1" });
  const role = new IamRole(first, "role", { name: "r", assumeRolePolicy: "{}" });
  const second = new TerraformStack(app, "second");
  new AwsProvider(second, "aws", { region: "eu-west-1" });
  new IamRolePolicy(second, "policy", { role: role.name, policy: "{}" });
  return app;
}

describe("cdktf's prepare pass, skipped: the guards", () => {
  test("GIVEN a cross-stack reference WHEN synthesized with the fast path alone THEN cdktf wires it, as stock", () => {
    const stockDir = join(scratch, "cross-stock");
    crossStackApp(stockDir).synth();
    const fastDir = join(scratch, "cross-fast");
    withFastResolve(() => crossStackApp(fastDir).synth());
    const fast = written(fastDir);
    expect(fast).toEqual(written(stockDir));
    expect(fast["stacks/second/cdk.tf.json"]).toContain("terraform_remote_state");
    expect(fast["stacks/first/cdk.tf.json"]).toContain("cross-stack-output-aws_iam_rolerolename");
  });

  test.each([false, true])(
    "GIVEN a cross-stack reference WHEN synthesized with the prepare pass skipped (hcl: %s) THEN SkippedPrepareError names both stacks",
    (hcl) => {
      const previous = process.env.SYNTH_HCL_OUTPUT;
      process.env.SYNTH_HCL_OUTPUT = String(hcl);
      try {
        const app = crossStackApp(join(scratch, `cross-skipped-${hcl}`));
        const synth = () => withFastCdktf(() => app.synth());
        expect(synth).toThrow(SkippedPrepareError);
        expect(synth).toThrow(/stack second refers to aws_iam_role\.role\.name of stack first/);
      } finally {
        if (previous === undefined) delete process.env.SYNTH_HCL_OUTPUT;
        else process.env.SYNTH_HCL_OUTPUT = previous;
      }
    },
  );

  test("GIVEN a token whose resolution adds a construct WHEN synthesized with the prepare pass skipped THEN SkippedPrepareError", () => {
    // GIVEN a value that creates an output in its stack when resolved (what the prepare pass would
    // have done before rendering)
    const app = new App({ outdir: join(scratch, "growing"), stackTraces: false });
    const stack = new TerraformStack(app, "growing");
    new AwsProvider(stack, "aws", { region: "eu-west-1" });
    let made = 0;
    const value = Lazy.stringValue({
      produce: () => {
        new TerraformOutput(stack, `late-${made++}`, { value: "x" });
        return "v";
      },
    });
    new IamRole(stack, "role", { name: value, assumeRolePolicy: "{}" });
    // WHEN synthesized THEN refused, naming the stack
    expect(() => withFastCdktf(() => app.synth())).toThrow(/stack growing gained 1 construct/);
    // AND with the pass, stock cdktf renders such a stack without complaint (the case the guard covers)
    expect(() => app.synth()).not.toThrow();
  });

  test("GIVEN a reference within one stack THEN no guard fires", () => {
    const app = new App({ outdir: join(scratch, "within"), stackTraces: false });
    const stack = new TerraformStack(app, "within");
    new AwsProvider(stack, "aws", { region: "eu-west-1" });
    const role = new IamRole(stack, "role", { name: "r", assumeRolePolicy: "{}" });
    new IamRolePolicy(stack, "policy", { role: role.name, policy: "{}" });
    expect(() => withFastCdktf(() => app.synth())).not.toThrow();
  });
});

describe("withFastCdktf around app.synth(): byte-identical to stock cdktf", () => {
  /** The fixture configs and a generated config of 3 accounts × 10 roles (with its lock). */
  function configs(): [string, () => Config][] {
    const generated = join(scratch, "generated.yaml");
    writeFileSync(generated, generateConfig(3, 10));
    writeFileSync(lockPathFor(generated), generateLock(3, 10));
    return [
      ...readdirSync(FIXTURES)
        .filter((file) => file.endsWith(".yaml") && !file.endsWith(".lock.yaml"))
        .map((file): [string, () => Config] => [file, () => loadConfigFile(join(FIXTURES, file))]),
      ["generated 3 × 10", () => loadConfigFile(generated)],
    ];
  }

  // "committed": the main job's synth (withFormattedHcl, trust documents as committed regions) against
  // stock cdktf's text formatted after; false: JSON.
  test.each(["committed", false] as const)(
    "GIVEN each fixture config and a generated one WHEN synthesized (hcl: %s) THEN every file equals stock cdktf's",
    (format) => {
      const hcl = format !== false;
      let regions = 0;
      for (const [name, load] of configs()) {
        const config = load();
        const stockDir = join(scratch, `${name}-${hcl}-stock`);
        buildApp(config, stockDir, hcl).synth();
        const fastDir = join(scratch, `${name}-${hcl}-fast`);
        const app = buildApp(config, fastDir, hcl);
        if (hcl)
          withFormattedHcl(
            (_stack, _text, count) => (regions += count),
            () => withFastCdktf(() => app.synth()),
          );
        else withFastCdktf(() => app.synth());
        const stock = written(stockDir);
        const stacks = Object.keys(stock).filter((file) => /\/cdk\.tf(\.json)?$/.test(file));
        expect(stacks.length).toBeGreaterThan(0);
        for (const file of hcl ? stacks : []) stock[file] = committedHcl(stock[file]!);
        expect({ name, files: written(fastDir) }).toEqual({ name, files: stock });
      }
      if (hcl) expect(regions).toBeGreaterThan(30);
    },
  );
});

describe("withFastExpressionArgs: a function call's plain arguments rendered as cdktf renders them", () => {
  const pieces = [
    "a",
    "",
    " ",
    '"',
    "\\",
    "${x}",
    "$${y}",
    "%{if}",
    "%%{z}",
    "\n",
    "é",
    "→",
    "1e5",
    "0",
    "true",
  ];
  const pieces2 = [...pieces, "TfToken", "}", "{", "]", "[", "=", ",", "\u2028", "\u{1F600}"];

  /** A random plain argument: strings of awkward pieces, booleans, arrays and objects of those. */
  function plainArgument(random: (n: number) => number, depth: number): unknown {
    const kind = random(depth > 0 ? 5 : 2);
    if (kind === 0) {
      return randomText(random, pieces2, 4);
    }
    if (kind === 1) return random(2) === 0;
    if (kind === 2 || kind === 3) {
      return Array.from({ length: random(4) }, () => plainArgument(random, depth - 1));
    }
    return Object.fromEntries(
      Array.from({ length: random(4) }, () => [
        Array.from({ length: 1 + random(3) }, () => pieces[random(pieces.length)]).join(""),
        plainArgument(random, depth - 1),
      ]),
    );
  }

  const ARGUMENTS = breadth(300, 60);
  test.each([true, false])(
    `GIVEN ${ARGUMENTS} random plain arguments to jsonencode, toset and join WHEN synthesized (hcl: %s) THEN stock cdktf's bytes`,
    (hcl) => {
      const random = seeded(2026);
      const args = Array.from({ length: ARGUMENTS }, () => plainArgument(random, 3));
      const synthesized = (fast: boolean) =>
        oneStackFiles(`args-${hcl}`, hcl, fast, (stack) => {
          args.forEach((arg, i) => {
            new TerraformOutput(stack, `json-${i}`, { value: Fn.jsonencode(arg) });
            if (Array.isArray(arg) && arg.every((item) => typeof item === "string")) {
              new TerraformOutput(stack, `set-${i}`, { value: Fn.toset(arg) });
              new TerraformOutput(stack, `join-${i}`, { value: Fn.join(",", arg as string[]) });
            }
          });
        });
      const stock = synthesized(false);
      expect(Object.values(stock).join("")).toContain("jsonencode(");
      expect(synthesized(true)).toEqual(stock);
    },
  );

  test("GIVEN an argument with a token, a number, null or a hole THEN it is not plain (cdktf renders it)", () => {
    expect(isPlainArgument({ a: ["x", { b: true }] })).toBe(true);
    for (const value of [
      { a: Token.asString(Lazy.stringValue({ produce: () => "x" })) },
      ["x", 1],
      { a: null },
      { a: undefined },
      // eslint-disable-next-line no-sparse-arrays
      ["x", , "y"],
      new (class Thing {})(),
    ]) {
      expect(isPlainArgument(value)).toBe(false);
    }
  });
});

describe("DirectPolicyDocument: its HCL written directly, byte for byte cdktf's", () => {
  const pieces = [
    '"',
    "\\",
    "${x}",
    "$${y}",
    "%{z}",
    "\n",
    "\r\n",
    "é",
    "\u2028",
    " ",
    "",
    "a",
    "*",
    ":",
    "TfToken",
  ];

  // The first 20 documents of seed 25 hold one that puts the unwrapping out of step (regions [0] below).
  const DOCUMENTS = breadth(200, 20);

  /** `count` documents of random statements from `from`'s pieces, each the trust policy of a role. */
  function randomDocuments(stack: TerraformStack, from: readonly string[], count = DOCUMENTS): void {
    const random = seeded(25);
    const provider = new IamOpenidConnectProvider(stack, "gitlab", {
      url: "https://gitlab.com",
      clientIdList: ["sts.amazonaws.com"],
    });
    for (let i = 0; i < count; i++) {
      const document = new DirectPolicyDocument(stack, `doc-${i}`, {
        statement: statements(random, provider.arn, from),
      });
      new IamRole(stack, `role-${i}`, { name: `r${i}`, assumeRolePolicy: document.json });
    }
  }

  /** Random statements of the shapes the direct body covers, some with keys it does not (fallback). */
  function statements(
    random: (n: number) => number,
    provider: string,
    from: readonly string[],
  ): DataAwsIamPolicyDocumentStatement[] {
    const text = () => randomText(random, from, 5);
    return Array.from({ length: random(4) }, () => ({
      ...(random(4) > 0 ? { actions: Array.from({ length: random(3) }, () => text()) } : {}),
      ...(random(4) > 0 ? { effect: text() } : {}),
      sid: random(3) === 0 ? undefined : text(),
      ...(random(5) > 0
        ? {
            condition: Array.from({ length: random(4) }, () => ({
              test: text(),
              variable: text(),
              values: Array.from({ length: random(3) }, () => text()),
            })),
          }
        : {}),
      ...(random(5) > 0
        ? {
            principals: Array.from({ length: random(3) }, () => ({
              type: text(),
              identifiers: random(2) === 0 ? [provider] : [provider, text()],
            })),
          }
        : {}),
      ...(random(12) === 0 ? { resources: ["*"] } : {}),
    }));
  }

  test.each([true, "committed", false] as const)(
    `GIVEN ${DOCUMENTS} documents of random statements (hostile strings, references) WHEN synthesized (hcl: %s) THEN stock cdktf's files`,
    (format) => {
      const regions: number[] = [];
      const synthesized = (fast: boolean) =>
        oneStackFiles(`direct-${format}`, format, fast, (stack) => randomDocuments(stack, pieces), regions);
      const stock = outcomeOf(() => synthesized(false));
      const fast = outcomeOf(() => synthesized(true));
      // Equal files, or the same loud failure where cdktf's text is not HCL the unwrapping can read
      expect(fast).toEqual(stock);
      // AND a heredoc or a broken string before a trust document puts the unwrapping out of step: the
      // stack was rendered again for formatHcl (its files still stock's)
      if (format === "committed" && !("error" in stock)) expect(regions).toEqual([0]);
    },
  );

  test.each(["a\nb", 'a"b', "a\\b"])(
    "GIVEN a role whose description (%j) cdktf writes as a heredoc or an escaped string, before trust documents WHEN the main job synthesizes them THEN stock cdktf's files, each document a committed region",
    (description) => {
      const regions: number[] = [];
      const synthesized = (fast: boolean) =>
        oneStackFiles(
          "out-of-step",
          "committed",
          fast,
          (stack) => {
            new IamRole(stack, "first", { name: "first", assumeRolePolicy: "{}", description });
            for (let i = 0; i < 3; i++) {
              const document = new DirectPolicyDocument(stack, `doc-${i}`, {
                statement: [{ actions: ["sts:AssumeRoleWithWebIdentity"], effect: "Allow", sid: `S${i}` }],
              });
              new IamRole(stack, `role-${i}`, { name: `r${i}`, assumeRolePolicy: document.json });
            }
          },
          regions,
        );
      const stock = synthesized(false);
      expect(synthesized(true)).toEqual(stock);
      expect(regions).toEqual([3]);
    },
  );

  const WELL_FORMED = breadth(200, 60);
  test(`GIVEN ${WELL_FORMED} documents of random well-formed statements WHEN the main job synthesizes them THEN stock cdktf's files, many bodies as committed regions`, () => {
    // Strings cdktf quotes whole (no newline, quote or backslash); an empty condition or principals
    // list, or a key the direct body does not write, sends a document through formatHcl instead.
    const tame = ["a", "*", ":", " ", "é", "$${y}", "%%{z}", "${x}", "[]", "=", "a = b"];
    const regions: number[] = [];
    const synthesized = (fast: boolean) =>
      oneStackFiles(
        "direct-tame",
        "committed",
        fast,
        (stack) => randomDocuments(stack, tame, WELL_FORMED),
        regions,
      );
    const stock = synthesized(false);
    expect(synthesized(true)).toEqual(stock);
    expect(regions).toHaveLength(1);
    expect(regions[0]).toBeGreaterThan(WELL_FORMED / 10);
    expect(regions[0]).toBeLessThan(WELL_FORMED);
  });

  test("GIVEN a region handed out that its stack's HCL does not hold THEN the synth fails loudly", () => {
    let document: DirectPolicyDocument | undefined;
    const synth = (fast: boolean) =>
      oneStackFiles("region-lost", "committed", fast, (stack) => {
        document = new DirectPolicyDocument(stack, "d", {
          statement: [{ actions: ["sts:AssumeRoleWithWebIdentity"], effect: "Allow" }],
        });
        // A render outside the stack's own (under the hooks): its placeholder never reaches the stack's text.
        if (fast) stack.node.addValidation({ validate: () => (document!.toHclTerraform(), []) });
      });
    expect(() => synth(true)).toThrow(
      /2 committed regions were rendered for stack stack, 1 found in its HCL/,
    );
  });

  const ROLES = breadth(100, 25);
  test.each([
    ["committed", "well-formed"],
    ["committed", "hostile"],
    [false, "hostile"],
  ] as const)(
    `GIVEN ${ROLES} roles' exclusive resources with random names, some with meta-arguments or overrides WHEN synthesized (hcl: %s, names: %s) THEN stock cdktf's files`,
    (format, mix) => {
      const regions: number[] = [];
      const tame = ["a", "*", ":", " ", "é", "$${y}", "%%{z}", "${x}", "[]", "=", "/", "-"];
      const synthesized = (fast: boolean) =>
        oneStackFiles(
          `exclusive-${format}-${mix}`,
          format,
          fast,
          (stack) => {
            const random = seeded(31);
            const names = () =>
              Array.from({ length: random(4) }, () =>
                Array.from({ length: random(5) }, () =>
                  mix === "hostile" && random(10) === 0
                    ? pieces[random(pieces.length)]
                    : tame[random(tame.length)],
                ).join(""),
              );
            for (let i = 0; i < ROLES; i++) {
              const role = new IamRole(stack, `role-${i}`, { name: `r${i}`, assumeRolePolicy: "{}" });
              const attachments = new DirectRolePolicyAttachmentsExclusive(stack, `managed-${i}`, {
                roleName: role.name,
                names: names(),
              });
              const policies = new DirectRolePoliciesExclusive(stack, `inline-${i}`, {
                roleName: role.name,
                names: names(),
              });
              // Now and then what the direct body does not write: cdktf's own path for that one.
              if (random(20) === 0) attachments.count = 1;
              if (random(20) === 0) policies.addOverride("lifecycle.prevent_destroy", true);
              if (random(20) === 0) policies.policyNames = ["set-later"];
            }
          },
          regions,
        );
      const stock = outcomeOf(() => synthesized(false));
      if (mix === "well-formed") expect(JSON.stringify(stock)).toContain("aws_iam_role_policies_exclusive");
      // Equal files, or the same loud failure where cdktf's text is not HCL the unwrapping can read
      expect(outcomeOf(() => synthesized(true))).toEqual(stock);
      // AND in the main job's synth most well-formed ones are committed regions (a hostile name sends
      // its resource through cdktf, or, where it puts the unwrapping out of step, the whole stack)
      if (format === "committed" && mix === "well-formed") expect(regions[0]).toBeGreaterThan(1.5 * ROLES);
    },
  );

  test.each([true, false])(
    "GIVEN a statement string holding a number token WHEN synthesized (hcl: %s) THEN cdktf resolves it, as stock",
    (hcl) => {
      const number = String(Lazy.numberValue({ produce: () => 42 }));
      const synthesized = (fast: boolean) =>
        oneStackFiles(`number-token-${hcl}`, hcl, fast, (stack) => {
          const document = new DirectPolicyDocument(stack, "d", {
            statement: [{ actions: ["sts:AssumeRoleWithWebIdentity"], effect: "Allow", sid: `Sid${number}` }],
          });
          new IamRole(stack, "role", { name: "r", assumeRolePolicy: document.json });
        });
      const stock = synthesized(false);
      expect(Object.values(stock).join("")).toContain("Sid42");
      expect(synthesized(true)).toEqual(stock);
    },
  );

  test("GIVEN the main job's hooks THEN a trust document's body is written directly, not through cdktf's renderer", () => {
    const app = new App({ outdir: mkdtempSync(join(scratch, "direct-used-")), hclOutput: true });
    const stack = new TerraformStack(app, "s");
    new AwsProvider(stack, "aws", { region: "eu-west-1" });
    const document = new DirectPolicyDocument(stack, "d", {
      statement: [{ actions: ["sts:AssumeRoleWithWebIdentity"], effect: "Allow" }],
    });
    const stockBody = jest.spyOn(DataAwsIamPolicyDocument.prototype, "toHclTerraform");
    const fragment = withFastCdktf(() => document.toHclTerraform()) as {
      data: Record<string, Record<string, Record<string, unknown>>>;
    };
    expect(stockBody).not.toHaveBeenCalled();
    expect(Object.keys(fragment.data.aws_iam_policy_document!.d!)).toEqual([
      "gitlab_oidc_direct_hcl_body",
      "//",
    ]);
    // AND outside the hooks, cdktf's own
    document.toHclTerraform();
    expect(stockBody).toHaveBeenCalledTimes(1);
    stockBody.mockRestore();
  });
});
