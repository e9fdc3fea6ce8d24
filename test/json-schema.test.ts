import Ajv from "ajv";
import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { parse as parseYaml } from "yaml";
import { configJsonSchema, JSON_SCHEMA_FILE } from "../src/config/json-schema";
import { minimalConfig } from "./support/configs";

const ROOT = join(__dirname, "..");

describe("the published JSON schema", () => {
  const schema = JSON.parse(readFileSync(join(ROOT, JSON_SCHEMA_FILE), "utf8"));
  const validate = new Ajv({ strict: false, allErrors: true }).compile(schema);

  test("is current (run `npm run schema` and commit if not)", () => {
    expect(readFileSync(join(ROOT, JSON_SCHEMA_FILE), "utf8")).toBe(configJsonSchema());
  });

  test("accepts the example config, which points editors at it", () => {
    // GIVEN the example's copy in test/fixtures/configs/
    const file = join(ROOT, "test", "fixtures", "configs", "example.yaml");
    const text = readFileSync(file, "utf8");
    // THEN its first line points the YAML language server at the schema, relative to the file
    const pointer = /^# yaml-language-server: \$schema=(\S+)$/.exec(text.split("\n")[0]!)?.[1];
    expect(pointer && resolve(dirname(file), pointer)).toBe(join(ROOT, JSON_SCHEMA_FILE));
    // AND the schema accepts it
    expect(validate(parseYaml(text))).toBe(true);
  });

  test("flags a typo and a wrong type the way the tool does", () => {
    const config = minimalConfig({
      allow: [{ project: "acme/web", braches: ["main"] }],
      maxSessionDuration: "1h",
    });
    expect(validate(config)).toBe(false);
    const messages = (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);
    expect(messages).toEqual(
      expect.arrayContaining([
        "/accounts/0/roles/0/allow/0 must NOT have additional properties",
        "/accounts/0/roles/0/maxSessionDuration must be integer",
      ]),
    );
  });

  test("documents every property for editor hover", () => {
    const undocumented: string[] = [];
    const walk = (node: unknown, path: string) => {
      if (!node || typeof node !== "object") return;
      const properties = (node as { properties?: Record<string, { description?: string }> }).properties;
      for (const [key, value] of Object.entries(properties ?? {})) {
        if (key !== "type" && !value.description) undocumented.push(`${path}.${key}`);
        walk(value, `${path}.${key}`);
      }
      for (const child of ["items", "additionalProperties"])
        walk((node as Record<string, unknown>)[child], path);
      for (const list of ["anyOf", "oneOf", "allOf"]) {
        for (const option of ((node as Record<string, unknown>)[list] as unknown[]) ?? []) walk(option, path);
      }
    };
    walk(schema, "");
    expect(undocumented).toEqual([]);
  });
});

describe("the schema's metadata", () => {
  test("GIVEN a schema built without it WHEN the JSON schema's metadata is asked for THEN that fails, naming what to do", () => {
    // GIVEN a fresh set of modules in which the config schema was built first (as the main job builds it)
    jest.isolateModules(() => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      require("../src/config/schema");
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { keepSchemaMetadata } = require("../src/config/zod") as typeof import("../src/config/zod");
      // WHEN the metadata is asked for THEN it fails loudly instead of writing a schema without descriptions
      expect(() => keepSchemaMetadata()).toThrow(
        /import src\/config\/schema-metadata\.ts .* before src\/config\/schema\.ts/,
      );
    });
  });
});
