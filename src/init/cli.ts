/**
 * `npm run init [-- --from FILE|-]`: writes the team's gitlab-oidc.yaml at the repository root from the
 * example, or from FILE (`-`: standard input, e.g. `npm run -s audit -- roles.json --to-config`). Refuses
 * to overwrite an existing one. Exit codes: 0 written, 1 refused (exists, or FILE is no config), 2 usage.
 */
import "../runtime/entry"; // first: silences cdktf's DEP0044, enables the compile cache
import { readFileSync, writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { join } from "node:path";
import { EXAMPLE_CONFIG, TEAM_CONFIG, toolRoot } from "../layout";
import { InitError, startingConfig } from "./init";

const USAGE = `Usage: npm run init [-- --from FILE]

Writes your gitlab-oidc.yaml (the team's config, docs/layout.md) and never overwrites one.
  (no option)   start from upstream's example, ${EXAMPLE_CONFIG}
  --from FILE   start from FILE, e.g. what npm run audit -- roles.json --to-config printed; - reads stdin
`;

const NEXT = `Next: edit ${TEAM_CONFIG} (docs/config.md), then
  npm run resolve   # the GitLab IDs behind its paths, into gitlab-oidc.lock.yaml
  npm run synth     # writes terraform/
and commit the three (docs/layout.md).
`;

export function runInit(argv: readonly string[], cwd = process.cwd()): number {
  let from: string | undefined;
  try {
    const { values } = parseArgs({
      args: [...argv],
      options: { from: { type: "string" }, help: { type: "boolean", short: "h" } },
    });
    if (values.help) {
      process.stdout.write(USAGE);
      return 0;
    }
    from = values.from;
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const source = from ?? EXAMPLE_CONFIG;
  const path = from ?? join(toolRoot(), EXAMPLE_CONFIG);
  try {
    const text = startingConfig(
      readFileSync(source === "-" ? 0 : path, "utf8"),
      source === "-" ? "standard input" : source,
    );
    // wx: fails if the file exists, also when it appeared after a check.
    writeFileSync(join(cwd, TEAM_CONFIG), text, { flag: "wx" });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "EEXIST") {
      process.stderr.write(
        `${TEAM_CONFIG} exists already; nothing was written. It is yours: edit it (or remove it first).\n`,
      );
    } else if (code === "ENOENT") {
      process.stderr.write(`cannot read ${source}: file not found; nothing was written.\n`);
    } else if (error instanceof InitError) {
      process.stderr.write(`${error.message}\nnothing was written.\n`);
    } else throw error;
    return 1;
  }
  process.stdout.write(`Wrote ${TEAM_CONFIG} from ${source === "-" ? "standard input" : source}.\n${NEXT}`);
  return 0;
}

if (require.main === module) process.exitCode = runInit(process.argv.slice(2));
