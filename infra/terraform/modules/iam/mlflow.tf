# The MLflow tracking server (ECS or EKS): it proxies artifacts (--artifacts-destination s3://<mlflow-artifacts>),
# so clients need no S3 access, and it logs in to its RDS database with IAM authentication.
data "aws_iam_policy_document" "mlflow_trust" {
  statement {
    actions = var.mlflow_server_trusted_service == "pods.eks.amazonaws.com" ? ["sts:AssumeRole", "sts:TagSession"] : ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = [var.mlflow_server_trusted_service]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

data "aws_iam_policy_document" "mlflow" {
  statement {
    sid       = "ListArtifacts"
    actions   = ["s3:ListBucket", "s3:GetBucketLocation"]
    resources = [var.bucket_arns["mlflow-artifacts"]]
  }

  statement {
    sid       = "ReadWriteArtifacts"
    actions   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"]
    resources = ["${var.bucket_arns["mlflow-artifacts"]}/*"]
  }

  dynamic "statement" {
    for_each = var.mlflow_db_resource_id == null ? [] : [var.mlflow_db_resource_id]
    content {
      sid       = "ConnectToTheMlflowDatabase"
      actions   = ["rds-db:connect"]
      resources = ["arn:${local.partition}:rds-db:${local.region}:${local.account_id}:dbuser:${statement.value}/${var.mlflow_db_iam_user}"]
    }
  }

  dynamic "statement" {
    for_each = local.kms_statements
    content {
      sid       = "UseDataKeyThroughS3"
      actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
      resources = [statement.value]
      condition {
        test     = "StringEquals"
        variable = "kms:ViaService"
        values   = ["s3.${local.region}.amazonaws.com"]
      }
    }
  }
}

resource "aws_iam_role" "mlflow" {
  name                 = "${var.name_prefix}-mlflow-server"
  description          = "netqos MLflow tracking server"
  assume_role_policy   = data.aws_iam_policy_document.mlflow_trust.json
  max_session_duration = 3600
  tags                 = var.tags
}

resource "aws_iam_role_policy" "mlflow" {
  name   = "netqos-mlflow-server"
  role   = aws_iam_role.mlflow.id
  policy = data.aws_iam_policy_document.mlflow.json
}
