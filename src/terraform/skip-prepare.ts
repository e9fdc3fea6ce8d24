/**
 * cdktf 0.21's `App.synth()` first "prepares" every stack (`TerraformStack.prepareStack`): it makes sure
 * the stack has a backend, then resolves every element's Terraform JSON once with `preparing: true` and
 * throws the result away. The one thing that pass does (`cdktf/lib/tfExpression.js`, `Reference.resolve`)
 * is to find references to a resource of another stack and wire them: an output in the origin stack and
 * a remote state in the referring one, new constructs that the rendering pass then writes. A stack with
 * no cross-stack reference gains nothing from it; at 5,000 roles it is a second of CPU.
 *
 * `withoutPrepareResolve` runs `work` with `prepareStack` cut down to its backend check, and two guards
 * that fail loudly wherever the skipped pass would have mattered:
 * - a reference resolved (while rendering) in a stack other than its origin, which the prepare pass
 *   would have wired, throws `SkippedPrepareError` naming both stacks;
 * - a stack that gains constructs while its Terraform is rendered (a token whose resolution adds
 *   constructs, which the prepare pass would have added before rendering) throws it too.
 * Everything is restored when `work` returns or throws.
 */
import { TerraformStack, type IResolveContext } from "cdktf";
import { ref } from "cdktf/lib/tfExpression";

/** A skipped step of cdktf's synth would have changed the output: nothing may be written. */
export class SkippedPrepareError extends Error {}

/** The fields of cdktf's (unexported) `Reference` that its resolve reads. */
interface Reference {
  readonly identifier: string;
  readonly originStack?: TerraformStack;
  readonly crossStackIdentifier: Readonly<Record<string, string>>;
  resolve(context: IResolveContext): unknown;
}

/** The methods of TerraformStack the hook replaces (the synthesizer calls them on the prototype). */
interface StackMethods {
  prepareStack(this: TerraformStack): void;
  toHclTerraform(this: TerraformStack): unknown;
  toTerraform(this: TerraformStack): unknown;
}

const referencePrototype = Object.getPrototypeOf(ref("gitlab_oidc_probe")) as Reference;

function constructCount(stack: TerraformStack): number {
  return stack.node.findAll().length;
}

/** `render` with a check that the stack gained no construct while it ran. */
function withoutGrowth(render: (this: TerraformStack) => unknown) {
  return function (this: TerraformStack): unknown {
    const before = constructCount(this);
    const rendered = render.call(this);
    const after = constructCount(this);
    if (after !== before) {
      throw new SkippedPrepareError(
        `stack ${this.node.id} gained ${after - before} construct(s) while its tokens were resolved; cdktf's prepare pass, which the synth skips, would have added them before rendering. Create constructs before synth, not in a token's resolution.`,
      );
    }
    return rendered;
  };
}

export function withoutPrepareResolve<T>(work: () => T): T {
  const stack = TerraformStack.prototype as unknown as StackMethods;
  const saved = {
    prepareStack: stack.prepareStack,
    toHclTerraform: stack.toHclTerraform,
    toTerraform: stack.toTerraform,
    resolve: referencePrototype.resolve,
  };
  stack.prepareStack = function (this: TerraformStack) {
    this.ensureBackendExists();
  };
  stack.toHclTerraform = withoutGrowth(saved.toHclTerraform);
  stack.toTerraform = withoutGrowth(saved.toTerraform);
  referencePrototype.resolve = function (this: Reference, context: IResolveContext): unknown {
    if (!context.preparing && this.originStack !== undefined) {
      const resolving = TerraformStack.of(context.scope);
      if (this.originStack !== resolving && !(String(resolving) in this.crossStackIdentifier)) {
        throw new SkippedPrepareError(
          `stack ${resolving.node.id} refers to ${this.identifier} of stack ${this.originStack.node.id}: a cross-stack reference, which cdktf's prepare pass wires and the synth skips. Each stack must stand alone (one account each).`,
        );
      }
    }
    return saved.resolve.call(this, context);
  };
  try {
    return work();
  } finally {
    stack.prepareStack = saved.prepareStack;
    stack.toHclTerraform = saved.toHclTerraform;
    stack.toTerraform = saved.toTerraform;
    referencePrototype.resolve = saved.resolve;
  }
}
