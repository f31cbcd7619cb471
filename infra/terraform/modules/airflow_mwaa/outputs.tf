output "arn" {
  description = "ARN of the MWAA environment."
  value       = aws_mwaa_environment.this.arn
}

output "webserver_url" {
  description = "URL of the Airflow UI (reachable from the VPC only with PRIVATE_ONLY)."
  value       = aws_mwaa_environment.this.webserver_url
}

output "security_group_id" {
  description = "Security group of the environment: allow it into the MLflow/metastore database if tasks reach it."
  value       = aws_security_group.mwaa.id
}
