/**
 * The move of `gitlab.audience`'s default from the GitLab URL to sts.amazonaws.com (component 2.0.0).
 * A config that relied on the old default synthesizes providers that no longer accept the old audience;
 * jobs still sending it would get InvalidIdentityToken after the next apply. The synth compares the
 * previous output's client IDs with the new ones and says what to do, before anything breaks.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { DEFAULT_AUDIENCE, providerAudiences } from "./rules";
import type { Config } from "./schema";

/** The client IDs of each stack's OIDC provider in an earlier synth's output (HCL or JSON), by stack name. */
export function previousClientIds(outdir: string, stacks: readonly string[]): Map<string, string[]> {
  const found = new Map<string, string[]>();
  for (const stack of stacks) {
    for (const file of ["cdk.tf", "cdk.tf.json"]) {
      const path = join(outdir, "stacks", stack, file);
      if (!existsSync(path)) continue;
      const list = /"?client_id_list"?\s*[=:]\s*\[([^\]]*)\]/.exec(readFileSync(path, "utf8"))?.[1];
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
