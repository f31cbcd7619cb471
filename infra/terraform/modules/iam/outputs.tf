output "sensor_policy_arn" {
  description = "ARN of the shared sensor policy (put under sensor=<netqos-sensor tag>/ only); attach it to any other sensor principal tagged netqos-sensor=<id>."
  value       = aws_iam_policy.sensor.arn
}

output "sensor_role_arns" {
  description = "IAM role ARN per sensor id (the agent's AWS_ROLE_ARN, or the role of its Roles Anywhere profile)."
  value       = { for k, r in aws_iam_role.sensor : k => r.arn }
}

output "sensor_user_names" {
  description = "IAM user name per sensor id in sensor_users (create their access keys out of band)."
  value       = { for k, u in aws_iam_user.sensor : k => u.name }
}

output "spark_job_role_arn" {
  description = "ARN of the EMR Serverless job execution role (execution_role_arn of EmrServerlessStartJobOperator)."
  value       = aws_iam_role.spark.arn
}

output "airflow_role_arn" {
  description = "ARN of the MWAA execution role."
  value       = aws_iam_role.airflow.arn
}

output "mlflow_server_role_arn" {
  description = "ARN of the MLflow tracking server's task/pod role."
  value       = aws_iam_role.mlflow.arn
}
