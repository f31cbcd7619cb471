# MWAA execution role: what the environment itself needs (its DAG bucket, its logs, metrics and Celery queue) plus
# starting the netqos Spark jobs on the one EMR Serverless application, passing the Spark role and nothing else.
locals {
  mwaa_env_arn   = "arn:${local.partition}:airflow:${local.region}:${local.account_id}:environment/${var.mwaa_environment_name}"
  mwaa_log_group = "arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:airflow-${var.mwaa_environment_name}-*"
  # MWAA's Celery queues live in an AWS-owned account: their ARN is only known by name pattern.
  mwaa_queues = "arn:${local.partition}:sqs:${local.region}:*:airflow-celery-*"
}

data "aws_iam_policy_document" "airflow_trust" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["airflow.amazonaws.com", "airflow-env.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

data "aws_iam_policy_document" "airflow" {
  statement {
    sid       = "PublishEnvironmentMetrics"
    actions   = ["airflow:PublishMetrics"]
    resources = [local.mwaa_env_arn]
  }

  statement {
    sid       = "ReadDagBucket"
    actions   = ["s3:GetObject", "s3:GetObjectVersion", "s3:ListBucket", "s3:GetBucketLocation", "s3:GetBucketVersioning", "s3:GetBucketPublicAccessBlock", "s3:GetEncryptionConfiguration"]
    resources = [var.bucket_arns["airflow"], "${var.bucket_arns["airflow"]}/*"]
  }

  # MWAA checks at start that the account does not allow public buckets; the action has no resource scope.
  statement {
    sid       = "CheckAccountPublicAccessBlock"
    actions   = ["s3:GetAccountPublicAccessBlock"]
    resources = ["*"]
  }

  statement {
    sid       = "EnvironmentLogs"
    actions   = ["logs:CreateLogStream", "logs:CreateLogGroup", "logs:PutLogEvents", "logs:GetLogEvents", "logs:GetLogRecord", "logs:GetLogGroupFields", "logs:GetQueryResults"]
    resources = [local.mwaa_log_group, "${local.mwaa_log_group}:*"]
  }

  statement {
    sid       = "EnvironmentMetrics"
    actions   = ["cloudwatch:PutMetricData"]
    resources = ["*"]
    condition {
      test     = "StringEquals"
      variable = "cloudwatch:namespace"
      values   = ["AmazonMWAA"]
    }
  }

  statement {
    sid       = "CeleryQueue"
    actions   = ["sqs:ChangeMessageVisibility", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl", "sqs:ReceiveMessage", "sqs:SendMessage"]
    resources = [local.mwaa_queues]
  }

  # The Celery queue is encrypted with an AWS-owned key (MWAA default): usable only through SQS.
  statement {
    sid       = "CeleryQueueEncryption"
    actions   = ["kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKey*", "kms:Encrypt"]
    resources = ["arn:${local.partition}:kms:*:*:key/*"]
    condition {
      test     = "StringLike"
      variable = "kms:ViaService"
      values   = ["sqs.${local.region}.amazonaws.com"]
    }
  }

  # EmrServerlessStartJobOperator: starts the application if it is stopped, starts the run, polls it and cancels
  # it when the task is killed; the dashboard link is the operator's "Spark UI" extra link.
  statement {
    sid       = "RunSparkJobsOnTheApplication"
    actions   = ["emr-serverless:StartJobRun", "emr-serverless:GetJobRun", "emr-serverless:CancelJobRun", "emr-serverless:GetApplication", "emr-serverless:StartApplication", "emr-serverless:GetDashboardForJobRun"]
    resources = [var.emr_application_arn, "${var.emr_application_arn}/jobruns/*"]
  }

  statement {
    sid       = "PassOnlyTheSparkRole"
    actions   = ["iam:PassRole"]
    resources = [aws_iam_role.spark.arn]
    condition {
      test     = "StringEquals"
      variable = "iam:PassedToService"
      values   = ["emr-serverless.amazonaws.com"]
    }
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

resource "aws_iam_role" "airflow" {
  name                 = "${var.name_prefix}-airflow"
  description          = "netqos Airflow (MWAA execution role)"
  assume_role_policy   = data.aws_iam_policy_document.airflow_trust.json
  max_session_duration = 3600
  tags                 = var.tags
}

resource "aws_iam_role_policy" "airflow" {
  name   = "netqos-airflow"
  role   = aws_iam_role.airflow.id
  policy = data.aws_iam_policy_document.airflow.json
}
