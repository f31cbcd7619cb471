# Airflow 3 on MWAA running the netqos DAGs; the Spark tasks go to EMR Serverless (see docs/deploy.md, AWS).
resource "aws_mwaa_environment" "this" {
  name                            = var.name
  airflow_version                 = var.airflow_version
  environment_class               = var.environment_class
  min_workers                     = var.min_workers
  max_workers                     = var.max_workers
  source_bucket_arn               = var.source_bucket_arn
  dag_s3_path                     = var.dag_s3_path
  requirements_s3_path            = var.requirements_s3_path
  requirements_s3_object_version  = var.requirements_s3_object_version
  execution_role_arn              = var.execution_role_arn
  webserver_access_mode           = var.webserver_access_mode
  kms_key                         = var.kms_key_arn
  weekly_maintenance_window_start = var.weekly_maintenance_window_start
  airflow_configuration_options   = var.airflow_configuration_options

  network_configuration {
    subnet_ids         = var.subnet_ids
    security_group_ids = [aws_security_group.mwaa.id]
  }

  logging_configuration {
    dag_processing_logs {
      enabled   = true
      log_level = var.log_level
    }
    scheduler_logs {
      enabled   = true
      log_level = var.log_level
    }
    task_logs {
      enabled   = true
      log_level = var.log_level
    }
    webserver_logs {
      enabled   = true
      log_level = var.log_level
    }
    worker_logs {
      enabled   = true
      log_level = var.log_level
    }
  }

  tags = var.tags
}

resource "aws_security_group" "mwaa" {
  name        = "${var.name}-mwaa"
  description = "netqos MWAA: its components talk to each other; out to AWS APIs"
  vpc_id      = var.vpc_id
  tags        = var.tags
}

# MWAA requires a self-referencing rule: scheduler, workers, webserver and the metadata DB share this group.
resource "aws_vpc_security_group_ingress_rule" "mwaa_self" {
  security_group_id            = aws_security_group.mwaa.id
  description                  = "MWAA components to each other"
  ip_protocol                  = "-1"
  referenced_security_group_id = aws_security_group.mwaa.id
}

resource "aws_vpc_security_group_egress_rule" "mwaa_self" {
  security_group_id            = aws_security_group.mwaa.id
  description                  = "MWAA components to each other"
  ip_protocol                  = "-1"
  referenced_security_group_id = aws_security_group.mwaa.id
}

# SQS, S3, CloudWatch, EMR Serverless, STS and the MLflow endpoint: HTTPS only.
resource "aws_vpc_security_group_egress_rule" "mwaa_https" {
  security_group_id = aws_security_group.mwaa.id
  description       = "HTTPS to AWS APIs and MLflow"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "0.0.0.0/0"
}
