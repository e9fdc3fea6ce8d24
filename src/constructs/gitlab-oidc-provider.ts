import { DataAwsIamOpenidConnectProvider } from "@cdktf/provider-aws/lib/data-aws-iam-openid-connect-provider";
import { IamOpenidConnectProvider } from "@cdktf/provider-aws/lib/iam-openid-connect-provider";
import { DataTlsCertificate } from "@cdktf/provider-tls/lib/data-tls-certificate";
import { TlsProvider } from "@cdktf/provider-tls/lib/provider";
import { Construct } from "constructs";
import { checkAudienceList, ConfigError, type Problem } from "../config/rules";
import { httpsUrlProblem } from "../config/validators";
import { issuerHost } from "../model/trust-policy";
import { literalFor } from "../terraform/literal-for";
import { importExisting } from "./import-block";

export interface GitLabOidcProviderProps {
  /**
   * The ID tokens' issuer (`iss`): the GitLab instance's URL, or its `ci_id_tokens_issuer_url` when it
   * publishes its discovery document elsewhere. `https://`, no trailing slash; a path is allowed
   * (`https://example.com/gitlab`).
   */
  readonly url: string;
  /**
   * The client IDs (audiences) the provider accepts; the roles' trust policies check `aud` against them.
   * @default [url]
   */
  readonly audiences?: readonly string[];
  /**
   * Server certificate thumbprints. Empty for instances whose certificate chains to a CA that AWS trusts
   * (gitlab.com); pinned 40-hex SHA-1s; or `auto` to read the chain with the TLS provider at plan time.
   * @default []
   */
  readonly thumbprints?: readonly string[] | "auto";
  /**
   * Look up the account's existing provider for this URL instead of creating one (IAM allows one
   * provider per URL per account; creating a second fails with EntityAlreadyExists).
   * @default false
   */
  readonly existing?: boolean;
  /**
   * Adopt the account's existing provider: an import block takes over the one with this ARN instead of
   * creating another (which fails with EntityAlreadyExists). Ignored with `existing`. See docs/adopting.md.
   * @default create a new provider
   */
  readonly adoptArn?: string;
}

/**
 * The GitLab instance as an IAM OIDC identity provider, created or looked up.
 *
 * Terraform addresses: `aws_iam_openid_connect_provider.gitlab` or
 * `data.aws_iam_openid_connect_provider.gitlab`, and `data.tls_certificate.gitlab` for `auto`.
 */
export class GitLabOidcProvider extends Construct {
  /** The provider's ARN (a Terraform reference). */
  public readonly arn: string;
  /** The URL without `https://`: the prefix of the condition keys (`gitlab.com:sub`). */
  public readonly issuerHost: string;
  /** The audiences trust policies must require. */
  public readonly audiences: readonly string[];
  /** How the synthesized Terraform refers to the ARN, e.g. `${aws_iam_openid_connect_provider.gitlab.arn}`. */
  public readonly reference: string;
  /** The GitLab URL. */
  public readonly url: string;
  /** Whether the provider is looked up rather than created. */
  public readonly existing: boolean;
  /** The ARN the provider is imported from, when adopted. */
  public readonly importId?: string;

  constructor(scope: Construct, id: string, props: GitLabOidcProviderProps) {
    super(scope, id);
    // The same rules as the config's gitlab.url and gitlab.audience.
    const audiences = props.audiences && props.audiences.length > 0 ? [...props.audiences] : [props.url];
    const urlProblem = httpsUrlProblem("url", props.url);
    const problems: Problem[] = [
      ...(urlProblem === undefined ? [] : [{ path: ["url"], message: urlProblem }]),
      ...checkAudienceList(audiences, ["audiences"]),
      ...(props.thumbprints === "auto" ? [] : (props.thumbprints ?? [])).flatMap((thumbprint, i) =>
        /^[0-9A-Fa-f]{40}$/.test(thumbprint)
          ? []
          : [{ path: ["thumbprints", i], message: "a thumbprint is 40 hexadecimal characters (SHA-1)" }],
      ),
    ];
    if (problems.length > 0) throw new ConfigError(problems);
    this.issuerHost = issuerHost(props.url);
    this.url = props.url;
    this.existing = props.existing ?? false;
    this.audiences = audiences;
    const literal = literalFor(this);

    if (props.existing) {
      const existing = new DataAwsIamOpenidConnectProvider(this, "provider", { url: literal(props.url) });
      existing.overrideLogicalId("gitlab");
      this.arn = existing.arn;
      this.reference = "${data.aws_iam_openid_connect_provider.gitlab.arn}";
      return;
    }
    const created = new IamOpenidConnectProvider(this, "provider", {
      url: literal(props.url),
      clientIdList: this.audiences.map(literal),
      ...this.thumbprintList(props),
    });
    created.overrideLogicalId("gitlab");
    if (props.adoptArn !== undefined) {
      if (!/^arn:[\w-]+:iam::\d{12}:oidc-provider\/.+$/.test(props.adoptArn)) {
        throw new ConfigError([
          { path: ["adoptArn"], message: `"${props.adoptArn}" is not an IAM OIDC provider ARN` },
        ]);
      }
      importExisting(created, props.adoptArn);
      this.importId = props.adoptArn;
    }
    this.arn = created.arn;
    this.reference = "${aws_iam_openid_connect_provider.gitlab.arn}";
  }

  private thumbprintList(props: GitLabOidcProviderProps): { thumbprintList?: string[] } {
    const thumbprints = props.thumbprints ?? [];
    if (thumbprints !== "auto") {
      return thumbprints.length > 0 ? { thumbprintList: thumbprints.map((t) => t.toLowerCase()) } : {};
    }
    // tls:// reads the certificate the server presents; https:// would follow redirects and can
    // return another site's certificate (hashicorp/terraform-provider-tls#249).
    const { hostname, port } = new URL(props.url);
    new TlsProvider(this, "tls");
    const certificate = new DataTlsCertificate(this, "certificate", {
      url: `tls://${hostname}:${port || 443}`,
    });
    certificate.overrideLogicalId("gitlab");
    // The root of the chain comes first; AWS needs the top CA's thumbprint.
    return { thumbprintList: [certificate.certificates.get(0).sha1Fingerprint] };
  }
}
