/**
 * Planning a synthesized stack with the real AWS provider and no network: a copy of the stack with an
 * override file (the provider version found in a local plugin directory, a local backend, no credential
 * or account checks), `terraform init -plugin-dir`, then `terraform plan -refresh=false`
 * (shared/FACTS.md: "Tools as they behave here"). A fresh machine has neither terraform nor the plugin:
 * `testWithOfflineAwsProvider` (./tools) skips there, saying so in the test's name.
 */
import { cpSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runAsync } from "./run";

export interface AwsProviderPlugin {
  readonly pluginDir: string;
  readonly version: string;
}

/** The AWS provider in the plugin directory (awsProviderPluginDir), with its version, for the override. */
export function awsProviderPlugin(pluginDir: string): AwsProviderPlugin {
  const version = readdirSync(join(pluginDir, "registry.terraform.io", "hashicorp", "aws"))
    .sort()
    .pop();
  if (version === undefined) throw new Error(`${pluginDir} holds no version of hashicorp/aws`);
  return { pluginDir, version };
}

function overrideFile(version: string): string {
  return `terraform {
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "${version}"
    }
  }
  backend "local" {}
}
provider "aws" {
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  allowed_account_ids         = null
  access_key                  = "offline"
  secret_key                  = "offline"
}
`;
}

export interface OfflinePlan {
  /** `terraform show -json` of the plan. */
  readonly json: {
    resource_changes?: { address: string; type: string; change: { actions: string[]; after?: unknown } }[];
  };
  readonly text: string;
}

/** Plans a copy of `stackDir` (its cdk.tf) offline with the real provider. */
export async function planOffline(stackDir: string, plugin: AwsProviderPlugin): Promise<OfflinePlan> {
  const dir = mkdtempSync(join(tmpdir(), "offline-plan-"));
  try {
    cpSync(join(stackDir, "cdk.tf"), join(dir, "cdk.tf"));
    writeFileSync(join(dir, "zz_override.tf"), overrideFile(plugin.version));
    const env = { ...process.env, TF_IN_AUTOMATION: "1", TF_INPUT: "0", TF_CLI_CONFIG_FILE: "/dev/null" };
    const options = { cwd: dir, env, timeoutMs: 120_000 };
    const init = await runAsync(
      "terraform",
      ["init", "-input=false", `-plugin-dir=${plugin.pluginDir}`],
      options,
    );
    if (init.status !== 0) throw new Error(`terraform init failed:\n${init.stderr}${init.stdout}`);
    const plan = await runAsync(
      "terraform",
      ["plan", "-refresh=false", "-lock=false", "-input=false", "-no-color", "-out=plan.tfplan"],
      options,
    );
    if (plan.status !== 0) throw new Error(`terraform plan failed:\n${plan.stderr}${plan.stdout}`);
    const show = await runAsync("terraform", ["show", "-json", "plan.tfplan"], options);
    if (show.status !== 0) throw new Error(`terraform show failed:\n${show.stderr}`);
    return { json: JSON.parse(show.stdout) as OfflinePlan["json"], text: plan.stdout };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
