/**
 * `npm run init`: the team's starting config, so nobody copies the example by hand. From upstream's
 * example (examples/basic/gitlab-oidc.yaml), or from a config someone already has, such as what
 * `npm run audit -- FILE --to-config` prints. It never overwrites the team's config.
 */
import { load as loadYaml, CORE_SCHEMA } from "js-yaml";
import { configSchema } from "../config/schema";

/** The schema pointer for editors, relative to the team's config at the repository root. */
export const SCHEMA_LINE = "# yaml-language-server: $schema=./schema/gitlab-oidc.schema.json";

/** Raised when the source cannot start a config: the message says why. */
export class InitError extends Error {}

/**
 * The starting config's text: `source` with its schema pointer (if any) replaced by the root one, so the
 * editor finds the schema from the team's config. `source` must be a config of the right shape (the lock
 * comes later, from `npm run resolve`); `name` names it in messages.
 */
export function startingConfig(source: string, name: string): string {
  let data: unknown;
  try {
    data = loadYaml(source, { schema: CORE_SCHEMA, filename: name });
  } catch (error) {
    throw new InitError(`${name} is not YAML: ${(error as Error).message.split("\n")[0]}`);
  }
  const parsed = configSchema.safeParse(data);
  if (!parsed.success) {
    const problems = parsed.error.issues
      .slice(0, 5)
      .map((issue) => `  ${issue.path.join(".") || "(top)"}: ${issue.message}`);
    throw new InitError(`${name} is not a gitlab-oidc config:\n${problems.join("\n")}`);
  }
  const lines = source.split("\n");
  const body = lines[0]?.startsWith("# yaml-language-server:") ? lines.slice(1) : lines;
  return [SCHEMA_LINE, ...body].join("\n");
}
