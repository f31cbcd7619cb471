output "bucket_names" {
  description = "Bucket per role: landing, lakehouse, mlflow-artifacts, reports, code, airflow."
  value       = module.buckets.bucket_names
}

output "access_log_bucket_name" {
  description = "Bucket receiving the S3 server access logs."
  value       = module.buckets.access_log_bucket_name
}

output "kms_key_arn" {
  description = "KMS key of the buckets, log groups and database (null with SSE-S3)."
  value       = module.buckets.kms_key_arn
}

output "sensor_role_arns" {
  description = "Put-only IAM role per sensor id."
  value       = module.iam.sensor_role_arns
}

output "sensor_policy_arn" {
  description = "The shared sensor policy (attach to any principal tagged netqos-sensor=<id>)."
  value       = module.iam.sensor_policy_arn
}

output "spark_job_role_arn" {
  description = "Execution role of the EMR Serverless job runs."
  value       = module.iam.spark_job_role_arn
}

output "emr_application_id" {
  description = "EMR Serverless application id the DAGs submit to."
  value       = module.spark.application_id
}

output "emr_code_uri" {
  description = "Where the job code, packed Python environment and jars are uploaded."
  value       = module.spark.code_uri
}

output "airflow_role_arn" {
  description = "MWAA execution role."
  value       = module.iam.airflow_role_arn
}

output "airflow_webserver_url" {
  description = "Airflow UI URL."
  value       = module.airflow.webserver_url
}

output "mlflow_server_role_arn" {
  description = "Role for the MLflow tracking server's ECS task or EKS pod."
  value       = module.iam.mlflow_server_role_arn
}

output "mlflow_db_endpoint" {
  description = "host:port of the MLflow PostgreSQL."
  value       = module.mlflow_db.endpoint
}

output "mlflow_db_master_secret_arn" {
  description = "Secrets Manager secret of the database master user (managed and rotated by RDS)."
  value       = module.mlflow_db.master_user_secret_arn
}

output "netqos_environment" {
  description = "NETQOS_* settings (netqos/settings.py) for the jobs and DAGs on AWS; no secrets: credentials come from the roles."
  value = {
    NETQOS_S3__REGION         = var.aws_region
    NETQOS_S3__LANDING_BUCKET = module.buckets.bucket_names["landing"]
    NETQOS_REPORT__BUCKET     = module.buckets.bucket_names["reports"]
    NETQOS_CAPTURE__PREFIX    = var.landing_key_prefix
  }
}
