# The Spark runtime of the DAGs on AWS: one EMR Serverless application the netqos_* DAGs submit job runs to.
# Job code layout in s3://<code bucket>/ (uploaded by the release pipeline, see the module README):
#   jobs/spark/<job>.py           entry points (the same files spark-submit runs locally)
#   python/netqos.tar.gz          venv-pack'ed environment with the netqos wheel (spark.archives ...#environment)
#   jars/*.jar                    Delta / hadoop-aws / PostgreSQL JDBC matching the release's Spark (spark.jars)
#   emr-logs/                     s3MonitoringConfiguration of the job runs
locals {
  in_vpc = var.vpc_id != null
}

resource "aws_emrserverless_application" "spark" {
  name          = var.name
  release_label = var.release_label
  type          = "spark"
  architecture  = var.architecture

  maximum_capacity {
    cpu    = var.maximum_cpu
    memory = var.maximum_memory
    disk   = var.maximum_disk
  }

  auto_start_configuration {
    enabled = true
  }

  auto_stop_configuration {
    enabled              = true
    idle_timeout_minutes = var.idle_timeout_minutes
  }

  scheduler_configuration {
    max_concurrent_runs = var.max_concurrent_runs
  }

  dynamic "network_configuration" {
    for_each = local.in_vpc ? [1] : []
    content {
      subnet_ids         = var.subnet_ids
      security_group_ids = [aws_security_group.spark[0].id]
    }
  }

  monitoring_configuration {
    cloudwatch_logging_configuration {
      enabled            = true
      log_group_name     = aws_cloudwatch_log_group.spark.name
      encryption_key_arn = var.kms_key_arn
    }
    s3_monitoring_configuration {
      log_uri            = "s3://${var.code_bucket_name}/emr-logs/"
      encryption_key_arn = var.kms_key_arn
    }
  }

  tags = var.tags
}

resource "aws_cloudwatch_log_group" "spark" {
  name              = "/aws/emr-serverless/${var.name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
  tags              = var.tags
}

data "aws_vpc" "this" {
  count = local.in_vpc ? 1 : 0
  id    = var.vpc_id
}

resource "aws_security_group" "spark" {
  count = local.in_vpc ? 1 : 0

  name        = "${var.name}-workers"
  description = "netqos EMR Serverless workers: no inbound; out to HTTPS and PostgreSQL in the VPC"
  vpc_id      = var.vpc_id
  tags        = var.tags

  #checkov:skip=CKV2_AWS_5:Attached by aws_emrserverless_application.spark network_configuration, a resource type checkov's attachment check does not know.
}

# S3, STS, CloudWatch and the MLflow endpoint are all HTTPS; through a NAT gateway or VPC endpoints.
resource "aws_vpc_security_group_egress_rule" "spark_https" {
  count = local.in_vpc ? 1 : 0

  security_group_id = aws_security_group.spark[0].id
  description       = "HTTPS to AWS APIs (S3, STS, Logs) and MLflow"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "0.0.0.0/0"
}

# The PostgreSQL-backed Hive metastore (NETQOS_LAKE__METASTORE_URL) inside the VPC.
resource "aws_vpc_security_group_egress_rule" "spark_postgres" {
  count = local.in_vpc ? 1 : 0

  security_group_id = aws_security_group.spark[0].id
  description       = "PostgreSQL (Hive metastore) inside the VPC"
  ip_protocol       = "tcp"
  from_port         = 5432
  to_port           = 5432
  cidr_ipv4         = data.aws_vpc.this[0].cidr_block
}
