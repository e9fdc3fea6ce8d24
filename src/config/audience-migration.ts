/**
 * The move of `gitlab.audience`'s default from the GitLab URL to sts.amazonaws.com (component 2.0.0).
 * A config that relied on the old default synthesizes providers that no longer accept the old audience;
 * jobs still sending it would get InvalidIdentityToken after the next apply. The synth compares the
 * previous output's client IDs with the new ones and says what to do, before anything breaks.
 */
import { closeSync, existsSync, openSync, readFileSync, readSync } from "node:fs";
import { join } from "node:path";
import { DEFAULT_AUDIENCE, providerAudiences } from "./rules";
import type { Config } from "./schema";

/** The first `client_id_list` of a stack file, HCL (`client_id_list = [`) or JSON (`"client_id_list": [`). */
const CLIENT_ID_LIST = /"?client_id_list"?\s*[=:]\s*\[([^\]]*)\]/;

/**
 * How much of a stack file is read first: the provider is the stack's first resource (its client IDs
 * start a few hundred bytes in), and a stack of 50 roles is ~200 KB (100 of them: 20 MB read for a list).
 */
export const CLIENT_ID_HEAD_BYTES = 16 * 1024;

/**
 * The first client ID list in `path`, read from its start, the whole file only when the start holds
 * none. A match within the start is the whole file's first: one starting earlier would have its `]`
 * there too (the list between its `[` and `]` holds no `]`), so it would have matched first.
 */
function firstClientIdList(path: string, headBytes: number): string | undefined {
  const head = Buffer.alloc(headBytes);
  const fd = openSync(path, "r");
  let read: number;
  try {
    read = readSync(fd, head, 0, headBytes, 0);
  } finally {
    closeSync(fd);
  }
  const found = CLIENT_ID_LIST.exec(head.toString("utf8", 0, read))?.[1];
  if (found !== undefined || read < headBytes) return found;
  return CLIENT_ID_LIST.exec(readFileSync(path, "utf8"))?.[1];
}

/** The client IDs of each stack's OIDC provider in an earlier synth's output (HCL or JSON), by stack name. */
export function previousClientIds(
  outdir: string,
  stacks: readonly string[],
  headBytes = CLIENT_ID_HEAD_BYTES,
): Map<string, string[]> {
  const found = new Map<string, string[]>();
  for (const stack of stacks) {
    for (const file of ["cdk.tf", "cdk.tf.json"]) {
      const path = join(outdir, "stacks", stack, file);
      if (!existsSync(path)) continue;
      const list = firstClientIdList(path, headBytes);
      if (list !== undefined)
        found.set(
          stack,
          [...list.matchAll(/"([^"]*)"/g)].map((m) => m[1]!),
        );
      break;
    }
  }
  return found;
}

/**
 * One message per account whose provider accepted the old default audience (the GitLab URL) before and
 * would not now, because `gitlab.audience` is not set. Empty when nothing is dropped that way.
 */
export function audienceMigrationNotices(
  config: Config,
  previous: ReadonlyMap<string, readonly string[]>,
): string[] {
  if (config.gitlab.audience !== undefined) return [];
  const old = config.gitlab.url;
  return config.accounts.flatMap((account) => {
    const before = previous.get(account.name);
    if (!before?.includes(old)) return [];
    if (providerAudiences(config.gitlab, account.roles).includes(old)) return [];
    return [
      `gitlab.audience now defaults to ${DEFAULT_AUDIENCE} (it was the GitLab URL): the OIDC provider of stack ` +
        `${account.name} would stop accepting ID tokens with aud ${old}, and jobs still sending it ` +
        `(aws-credentials component before 2.0.0, or aud: $CI_SERVER_URL) would get InvalidIdentityToken after ` +
        `the next apply. To move without a break: set gitlab.audience: [${DEFAULT_AUDIENCE}, ${old}], apply, ` +
        `move every job to component 2.x (or aud: ${DEFAULT_AUDIENCE}), then drop ${old}. ` +
        `To keep the old audience: gitlab.audience: ${old}. (docs/config.md, "Moving to the sts.amazonaws.com audience")`,
    ];
  });
}
