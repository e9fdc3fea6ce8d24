/** Which config a run uses and where it writes (src/layout.ts), and the starting config (src/init). */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runInit } from "../src/init/cli";
import { InitError, SCHEMA_LINE, startingConfig } from "../src/init/init";
import { chooseConfig, EXAMPLE_CONFIG, extensionFor, outdirFor } from "../src/layout";
import { exampleText } from "./support/example";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "gitlab-oidc-layout-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe("chooseConfig", () => {
  test("GITLAB_OIDC_CONFIG, else the team's gitlab-oidc.yaml, else (a fresh clone) the example", () => {
    // GIVEN a clone with only the example
    mkdirSync(join(dir, "examples", "basic"), { recursive: true });
    writeFileSync(join(dir, EXAMPLE_CONFIG), "");
    expect(chooseConfig({}, dir)).toEqual({ file: EXAMPLE_CONFIG, source: "example" });
    // WHEN the team has its config THEN it wins; a named file wins over both
    writeFileSync(join(dir, "gitlab-oidc.yaml"), "");
    expect(chooseConfig({}, dir)).toEqual({ file: "gitlab-oidc.yaml", source: "team" });
    expect(chooseConfig({ GITLAB_OIDC_CONFIG: "s/try.yaml" }, dir)).toEqual({
      file: "s/try.yaml",
      source: "env",
    });
  });
});

describe("outdirFor and extensionFor", () => {
  test.each([
    ["gitlab-oidc.yaml", "terraform", "gitlab-oidc.extend.ts"],
    ["examples/basic/gitlab-oidc.yaml", "examples/basic/terraform", "examples/basic/gitlab-oidc.extend.ts"],
    ["scratch/try.yaml", "scratch/try.terraform", "scratch/try.extend.ts"],
    ["try.yml", "try.terraform", "try.extend.ts"],
  ])("%s writes %s/ and uses %s", (config, outdir, extension) => {
    // THEN only the team's config (a file named gitlab-oidc.yaml at the root) writes the root terraform/
    expect(outdirFor(config)).toBe(outdir);
    expect(extensionFor(config)).toBe(extension);
  });
});

describe("npm run init", () => {
  test("startingConfig points the editor at the schema from the root and refuses what is no config", () => {
    const text = startingConfig(exampleText(), "example.yaml");
    expect(text.split("\n")[0]).toBe(SCHEMA_LINE);
    expect(text.split("\n").slice(1)).toEqual(exampleText().split("\n").slice(1));
    expect(() => startingConfig("accounts: nope\n", "draft.yaml")).toThrow(InitError);
    expect(() => startingConfig("a: [\n", "draft.yaml")).toThrow(/draft\.yaml is not YAML/);
  });

  test("--from FILE writes that config (e.g. audit --to-config output), and never overwrites", () => {
    // GIVEN a draft such as npm run audit -- FILE --to-config prints
    const draft = join(dir, "draft.yaml");
    const body =
      'gitlab:\n  url: https://gitlab.com\naccounts:\n  - name: prod\n    accountId: "111111111111"\n    region: eu-west-1\n    roles:\n      - name: r\n        allow: [{ project: a/b, branches: [main] }]\n';
    writeFileSync(draft, body);
    const write = jest.spyOn(process.stdout, "write").mockImplementation(() => true);
    const err = jest.spyOn(process.stderr, "write").mockImplementation(() => true);
    try {
      // WHEN init runs with --from THEN the team's config is the draft, with the schema line
      expect(runInit(["--from", draft], dir)).toBe(0);
      expect(readFileSync(join(dir, "gitlab-oidc.yaml"), "utf8")).toBe(`${SCHEMA_LINE}\n${body}`);
      // AND a second run is refused with exit 1, the file unchanged
      expect(runInit(["--from", draft], dir)).toBe(1);
      expect(String(err.mock.calls.at(-1)?.[0])).toMatch(/exists already; nothing was written/);
      expect(runInit(["--bogus"], dir)).toBe(2);
    } finally {
      write.mockRestore();
      err.mockRestore();
    }
  });
});

test("cdktf.json ships no projectId, so no two copies share one (the cdktf CLI writes its own)", () => {
  const cdktf = JSON.parse(readFileSync(join(__dirname, "..", "cdktf.json"), "utf8")) as Record<
    string,
    unknown
  >;
  expect(cdktf).not.toHaveProperty("projectId");
});
