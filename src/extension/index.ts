/**
 * The team's TypeScript extension point (docs/extending.md). A team that wants resources beside the
 * roles (a permissions-boundary policy, a shared policy, one more role) writes them in ONE file it owns,
 * `gitlab-oidc.extend.ts` beside its config, instead of editing the tool's stacks:
 *
 * ```ts
 * import { IamPolicy } from "@cdktf/provider-aws/lib/iam-policy";
 * import { defineExtension } from "./src/extension";
 *
 * export default defineExtension({
 *   accountStack(stack, { account }) {
 *     new IamPolicy(stack, "boundary", { name: "gitlab-boundary", policy: "…" });
 *   },
 * });
 * ```
 *
 * The hook runs for every account stack after the tool's own resources and before the stack's outputs
 * and model are fixed, so roles added with `stack.addRole` go through the same constructs and rules as
 * the config's, and appear in the HCL, `ACCESS.md`, `npm run explain` and the `role_arns` output.
 */
import type { AccountConfig, Config } from "../config/schema";
import type { AccountStack } from "../../stacks/account-stack";

/** What the hook gets besides the stack. */
export interface AccountStackContext {
  /** The whole validated config (gitlab settings, state, limits, every account, the lock). */
  readonly config: Config;
  /** The account this stack deploys to (its roles are already in the stack). */
  readonly account: AccountConfig;
}

/** A team's extension: the default export of `gitlab-oidc.extend.ts`. */
export interface Extension {
  /**
   * Called once per account stack, in config order. Add resources with `stack` as their scope, roles
   * with `stack.addRole`. Throw a `ConfigError` (src/config/rules) to refuse the config with a message.
   * @default no hook
   */
  readonly accountStack?: (stack: AccountStack, context: AccountStackContext) => void;
}

/** Types an extension (a plain identity function: the types are the point). */
export function defineExtension(extension: Extension): Extension {
  return extension;
}
