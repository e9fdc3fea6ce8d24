/**
 * The published JSON schema of `gitlab-oidc.yaml` (schema/gitlab-oidc.schema.json), generated from
 * the same zod schema the loader uses, so editors validate and autocomplete exactly what the tool
 * accepts. Cross-field rules (duplicates, quotas) are only in the tool. Draft-07: what YAML editors
 * support best.
 */
import "../runtime/entry"; // first: silences cdktf's DEP0044, enables the compile cache
import { writeFileSync } from "node:fs";
import "./schema-metadata"; // before ./schema: the schema's descriptions are for this file
import { z } from "./zod";
import { configSchema } from "./schema";

export const JSON_SCHEMA_FILE = "schema/gitlab-oidc.schema.json";

export function configJsonSchema(): string {
  const schema = z.toJSONSchema(configSchema, { target: "draft-7", io: "input", unrepresentable: "any" });
  return `${JSON.stringify(schema, null, 2)}\n`;
}

if (require.main === module) {
  // `npm run schema`
  writeFileSync(JSON_SCHEMA_FILE, configJsonSchema());
  console.log(`wrote ${JSON_SCHEMA_FILE}`);
}
