# Execution role of the EMR Serverless job runs (jobs/spark/*.py): read landing and the job code, read/write the
# lakehouse, reports and MLflow artifacts, write its log group. Nothing else.
data "aws_iam_policy_document" "spark_trust" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["emr-serverless.amazonaws.com"]
    }
    # Only job runs of our application may assume it (confused deputy).
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
    condition {
      test     = "ArnLike"
      variable = "aws:SourceArn"
      values   = [var.emr_application_arn]
    }
  }
}

locals {
  read_write_buckets = [var.bucket_arns["lakehouse"], var.bucket_arns["reports"], var.bucket_arns["mlflow-artifacts"]]
  read_only_buckets  = [var.bucket_arns["landing"], var.bucket_arns["code"]]
}

data "aws_iam_policy_document" "spark" {
  statement {
    sid       = "ListBuckets"
    actions   = ["s3:ListBucket", "s3:GetBucketLocation"]
    resources = concat(local.read_write_buckets, local.read_only_buckets)
  }

  statement {
    sid       = "ReadLandedCapturesAndJobCode"
    actions   = ["s3:GetObject"]
    resources = [for b in local.read_only_buckets : "${b}/*"]
  }

  # Delta commits, OPTIMIZE and VACUUM rewrite and delete files; reports and MLflow artifacts are overwritten.
  statement {
    sid       = "ReadWriteLakehouseReportsArtifacts"
    actions   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"]
    resources = [for b in local.read_write_buckets : "${b}/*"]
  }

  # EMR Serverless writes the job logs under the code bucket's emr-logs/ (s3MonitoringConfiguration).
  statement {
    sid       = "WriteJobLogs"
    actions   = ["s3:PutObject"]
    resources = ["${var.bucket_arns["code"]}/emr-logs/*"]
  }

  dynamic "statement" {
    for_each = var.spark_may_delete_captures ? [1] : []
    content {
      sid       = "ExpireIngestedCaptures"
      actions   = ["s3:DeleteObject"]
      resources = ["${local.landing}/${var.landing_key_prefix}sensor=*"]
    }
  }

  statement {
    sid       = "CloudWatchJobLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"]
    resources = [var.emr_log_group_arn, "${var.emr_log_group_arn}:*"]
  }

  dynamic "statement" {
    for_each = local.kms_statements
    content {
      sid       = "UseDataKeyThroughS3AndLogs"
      actions   = ["kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey"]
      resources = [statement.value]
      condition {
        test     = "StringEquals"
        variable = "kms:ViaService"
        values   = ["s3.${local.region}.amazonaws.com", "logs.${local.region}.amazonaws.com"]
      }
    }
  }
}

resource "aws_iam_role" "spark" {
  name                 = "${var.name_prefix}-spark-job"
  description          = "netqos Spark jobs on EMR Serverless"
  assume_role_policy   = data.aws_iam_policy_document.spark_trust.json
  max_session_duration = 3600
  tags                 = var.tags
}

resource "aws_iam_role_policy" "spark" {
  name   = "netqos-spark-job"
  role   = aws_iam_role.spark.id
  policy = data.aws_iam_policy_document.spark.json
}
