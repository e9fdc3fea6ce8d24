/**
 * TEST SUPPORT: tools some tests need but the test command cannot install. scripts/ensure-test-tools.sh
 * installs every Debian-packaged tool the tests use (a missing one fails the run, saying what to
 * install); terraform is not a Debian package, so the checks that need it have an oracle that is always
 * present and run against terraform in addition where it is installed. Where it is not, they are
 * skipped loudly: the reason is in the test's name, and the closing summary line counts the skips.
 */
import { accessSync, constants, existsSync } from "node:fs";
import { delimiter, join } from "node:path";

export interface OptionalTool {
  readonly command: string;
  /** Why it may be missing and where to get it, shown in the names of the tests it skips. */
  readonly whereToGetIt: string;
}

export const TERRAFORM: OptionalTool = {
  command: "terraform",
  whereToGetIt: "not a Debian package; install it from https://developer.hashicorp.com/terraform/install",
};

/** Whether `command` is an executable file in a directory of PATH (checked without starting it). */
export function onPath(command: string, path = process.env.PATH ?? ""): boolean {
  return path
    .split(delimiter)
    .filter(Boolean)
    .some((dir) => {
      try {
        accessSync(join(dir, command), constants.X_OK);
        return true;
      } catch {
        return false;
      }
    });
}

/** The name a test gets when it is skipped for want of `tool`. */
export function skippedName(name: string, tool: OptionalTool): string {
  return `${name} [SKIPPED: ${tool.command} is not on PATH; ${tool.whereToGetIt}]`;
}

/**
 * `test(name, fn, timeout)` where `tool` is on PATH; elsewhere a skipped test whose name says why.
 * Never use a bare `test.skip`: nobody notices it.
 */
export function testWithTool(
  tool: OptionalTool,
  name: string,
  fn: jest.ProvidesCallback,
  timeout?: number,
): void {
  if (onPath(tool.command)) test(name, fn, timeout);
  else test.skip(skippedName(name, tool), fn, timeout);
}

/**
 * Throws, naming the Debian package and the installer, unless `command` is on PATH: for a beforeAll of
 * tests that cannot mean anything without a tool scripts/ensure-test-tools.sh installs.
 */
export function requireOnPath(command: string, debianPackage: string, why: string): void {
  if (onPath(command)) return;
  throw new Error(
    `${command} is not on PATH (${process.env.PATH ?? ""}), and ${why}. Install it with ` +
      `\`apt-get install ${debianPackage}\`, or run \`bash scripts/ensure-test-tools.sh\`, which installs ` +
      "every tool the tests use or says which are missing.",
  );
}

/**
 * The directory holding the AWS provider for `terraform init -plugin-dir` (a machine without the
 * registry): $TF_PLUGIN_DIR, else /opt/tf-plugins; undefined when neither has hashicorp/aws.
 */
export function awsProviderPluginDir(): string | undefined {
  return [process.env.TF_PLUGIN_DIR, "/opt/tf-plugins"]
    .filter((dir): dir is string => Boolean(dir))
    .find((dir) => existsSync(join(dir, "registry.terraform.io", "hashicorp", "aws")));
}

/** Like testWithTool(TERRAFORM, …), and also needs the AWS provider offline (awsProviderPluginDir). */
export function testWithOfflineAwsProvider(
  name: string,
  fn: (pluginDir: string) => void | Promise<void>,
  timeout?: number,
): void {
  const pluginDir = awsProviderPluginDir();
  if (!onPath(TERRAFORM.command)) test.skip(skippedName(name, TERRAFORM), () => undefined);
  else if (!pluginDir) {
    test.skip(`${name} [SKIPPED: no AWS provider plugin directory; set TF_PLUGIN_DIR to one (terraform providers mirror)]`, () =>
      undefined);
  } else test(name, async () => await fn(pluginDir), timeout);
}
