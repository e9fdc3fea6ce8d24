import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { S3Bucket } from "@cdktf/provider-aws/lib/s3-bucket";
import { S3BucketOwnershipControls } from "@cdktf/provider-aws/lib/s3-bucket-ownership-controls";
import { S3BucketPolicy } from "@cdktf/provider-aws/lib/s3-bucket-policy";
import { S3BucketPublicAccessBlock } from "@cdktf/provider-aws/lib/s3-bucket-public-access-block";
import { S3BucketServerSideEncryptionConfigurationA } from "@cdktf/provider-aws/lib/s3-bucket-server-side-encryption-configuration";
import { S3BucketVersioningA } from "@cdktf/provider-aws/lib/s3-bucket-versioning";
import { Fn, S3Backend, TerraformOutput, TerraformStack } from "cdktf";
import type { Construct } from "constructs";
import type { AccountConfig } from "../src/config/schema";
import { STATE_STACK, type IamDocument, type S3StateConfig } from "../src/model/state-access";
import { expressionLiterals } from "../src/terraform/literal";
import { literalFor, literalMap } from "../src/terraform/literal-for";
import { MANAGED_BY_TAG, s3BackendProps } from "./account-stack";

export interface StateBucketStackProps {
  /** `state` of the config, with `type: s3`. */
  readonly state: S3StateConfig;
  /** The account that owns the bucket (`state.account`). */
  readonly account: AccountConfig;
  /** The bucket policy: stateBucketPolicy(config, state). */
  readonly bucketPolicy: IamDocument;
}

/**
 * The state bucket (`state.type: s3`): versioned, encrypted, no public access, owner-enforced, with the
 * policy that lets only each stack's writer (and break-glass) write its state. Deployed by hand, as the
 * break-glass role, never by the pipeline: it decides who may write every other stack's state. Its own
 * state is `<keyPrefix>gitlab-oidc-state.tfstate` in the bucket it creates (first apply: docs/state.md).
 */
export class StateBucketStack extends TerraformStack {
  constructor(scope: Construct, props: StateBucketStackProps) {
    const { state, account, bucketPolicy } = props;
    super(scope, STATE_STACK);
    const literal = literalFor(this);
    new AwsProvider(this, "aws", {
      region: literal(state.region),
      allowedAccountIds: [literal(account.accountId)],
      defaultTags: [{ tags: literalMap({ ...MANAGED_BY_TAG, ...account.tags }, literal) }],
    });
    new S3Backend(this, s3BackendProps(state, STATE_STACK));

    const bucket = new S3Bucket(this, "state", {
      bucket: literal(state.bucket),
      // Every stack's state, and its history: terraform destroy must not take it.
      lifecycle: { preventDestroy: true },
    });
    new S3BucketVersioningA(this, "state-versioning", {
      bucket: bucket.id,
      versioningConfiguration: { status: "Enabled" },
    });
    new S3BucketServerSideEncryptionConfigurationA(this, "state-encryption", {
      bucket: bucket.id,
      rule: [
        {
          applyServerSideEncryptionByDefault: state.kmsKeyArn
            ? { sseAlgorithm: "aws:kms", kmsMasterKeyId: literal(state.kmsKeyArn) }
            : { sseAlgorithm: "AES256" },
          bucketKeyEnabled: state.kmsKeyArn !== undefined,
        },
      ],
    });
    new S3BucketPublicAccessBlock(this, "state-public-access", {
      bucket: bucket.id,
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    });
    new S3BucketOwnershipControls(this, "state-ownership", {
      bucket: bucket.id,
      rule: { objectOwnership: "BucketOwnerEnforced" },
    });
    new S3BucketPolicy(this, "state-policy", {
      bucket: bucket.id,
      // jsonencode of the structure, never a JSON string: cdktf's HCL output does not escape quotes.
      policy: Fn.jsonencode(expressionLiterals(bucketPolicy)),
    });
    new TerraformOutput(this, "bucket_arn", { value: bucket.arn, description: "The state bucket" });
  }
}
