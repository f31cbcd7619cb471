output "endpoint" {
  description = "host:port of the database (MLflow --backend-store-uri postgresql://<user>@<endpoint>/<db>?sslmode=require)."
  value       = aws_db_instance.this.endpoint
}

output "address" {
  description = "Host name of the database."
  value       = aws_db_instance.this.address
}

output "database_name" {
  description = "Name of the MLflow database."
  value       = aws_db_instance.this.db_name
}

output "resource_id" {
  description = "DbiResourceId of the instance (IAM database authentication: rds-db:connect resource)."
  value       = aws_db_instance.this.resource_id
}

output "master_user_secret_arn" {
  description = "ARN of the Secrets Manager secret holding the master credentials (generated and rotated by RDS)."
  value       = aws_db_instance.this.master_user_secret[0].secret_arn
}

output "security_group_id" {
  description = "Security group of the database."
  value       = aws_security_group.db.id
}
