terraform {
  required_providers {
    aws = {
      version = "6.25.0"
      source  = "aws"
    }
  }
  backend "local" {
    path = "../../../terraform.staging.tfstate"
  }

}

provider "aws" {
  allowed_account_ids = [
    "222222222222"
  ]
  region = "eu-west-1"
  default_tags {
    tags = {
      managed-by = "gitlab-oidc-aws"
    }
  }
}
resource "aws_iam_openid_connect_provider" "gitlab" {
  client_id_list = [
    "sts.amazonaws.com",
    "https://gitlab.com"
  ]
  url = "https://gitlab.com"
}
data "aws_iam_policy_document" "gitlab-deploy-web_trust" {
  statement {
    actions = [
      "sts:AssumeRoleWithWebIdentity"
    ]
    effect = "Allow"
    sid    = "Project48213507Wildcard"
    condition {
      test = "StringEquals"
      values = [
        "sts.amazonaws.com",
        "https://gitlab.com"
      ]
      variable = "gitlab.com:aud"
    }
    condition {
      test = "StringEquals"
      values = [
        "48213507"
      ]
      variable = "gitlab.com:project_id"
    }
    condition {
      test = "StringLike"
      values = [
        "project_path:acme/web:ref_type:branch:ref:*"
      ]
      variable = "gitlab.com:sub"
    }
    principals {
      identifiers = [
        aws_iam_openid_connect_provider.gitlab.arn
      ]
      type = "Federated"
    }
  }
}
resource "aws_iam_role" "gitlab-deploy-web" {
  assume_role_policy   = data.aws_iam_policy_document.gitlab-deploy-web_trust.json
  description          = "Deploys the web app to staging from any branch of acme/web, protected or not"
  max_session_duration = 3600
  name                 = "gitlab-deploy-web"
  path                 = "/gitlab/"
}
resource "aws_iam_role_policy_attachments_exclusive" "gitlab-deploy-web" {
  policy_arns = [
    "arn:aws:iam::aws:policy/ReadOnlyAccess"
  ]
  role_name = aws_iam_role.gitlab-deploy-web.name
}
resource "aws_iam_role_policies_exclusive" "gitlab-deploy-web" {
  policy_names = [

  ]
  role_name = aws_iam_role.gitlab-deploy-web.name
}
resource "aws_iam_role_policy_attachment" "gitlab-deploy-web" {
  policy_arn = each.value
  role       = aws_iam_role.gitlab-deploy-web.name
  for_each   = toset(["arn:aws:iam::aws:policy/ReadOnlyAccess"])
}
data "aws_iam_policy_document" "gitlab-terraform-plan_trust" {
  statement {
    actions = [
      "sts:AssumeRoleWithWebIdentity"
    ]
    effect = "Allow"
    sid    = "Group48212288Wildcard"
    condition {
      test = "StringEquals"
      values = [
        "sts.amazonaws.com",
        "https://gitlab.com"
      ]
      variable = "gitlab.com:aud"
    }
    condition {
      test = "StringEquals"
      values = [
        "48212288",
        "48212301",
        "48212319",
        "61730455"
      ]
      variable = "gitlab.com:namespace_id"
    }
    condition {
      test = "StringEquals"
      values = [
        "true"
      ]
      variable = "gitlab.com:ref_protected"
    }
    condition {
      test = "StringLike"
      values = [
        "project_path:acme/platform/*:ref_type:branch:ref:main",
        "project_path:acme/platform/*:ref_type:tag:ref:v*"
      ]
      variable = "gitlab.com:sub"
    }
    principals {
      identifiers = [
        aws_iam_openid_connect_provider.gitlab.arn
      ]
      type = "Federated"
    }
  }
}
resource "aws_iam_role" "gitlab-terraform-plan" {
  assume_role_policy   = data.aws_iam_policy_document.gitlab-terraform-plan_trust.json
  description          = "Read-only plans for every project of the platform group, on protected refs"
  max_session_duration = 3600
  name                 = "gitlab-terraform-plan"
  path                 = "/gitlab/"
}
resource "aws_iam_role_policy_attachments_exclusive" "gitlab-terraform-plan" {
  policy_arns = [
    "arn:aws:iam::aws:policy/ReadOnlyAccess"
  ]
  role_name = aws_iam_role.gitlab-terraform-plan.name
}
resource "aws_iam_role_policies_exclusive" "gitlab-terraform-plan" {
  policy_names = [

  ]
  role_name = aws_iam_role.gitlab-terraform-plan.name
}
resource "aws_iam_role_policy_attachment" "gitlab-terraform-plan" {
  policy_arn = each.value
  role       = aws_iam_role.gitlab-terraform-plan.name
  for_each   = toset(["arn:aws:iam::aws:policy/ReadOnlyAccess"])
}

output "provider_arn" {
  value       = aws_iam_openid_connect_provider.gitlab.arn
  description = "ARN of the GitLab OIDC identity provider"
}

output "role_arns" {
  value = {
    gitlab-deploy-web     = aws_iam_role.gitlab-deploy-web.arn
    gitlab-terraform-plan = aws_iam_role.gitlab-terraform-plan.arn
  }
  description = "Role ARN by role name: the role_arn input of the aws-credentials CI/CD component"
}
