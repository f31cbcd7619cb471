variable "aws_region" {
  description = "AWS region of every resource, e.g. \"eu-west-1\"."
  type        = string
}

variable "name_prefix" {
  description = "Prefix of every name (buckets are global: include your org, e.g. \"acme-netqos-prod\")."
  type        = string
}

variable "vpc_id" {
  description = "Existing VPC for MWAA, the EMR Serverless workers and the database."
  type        = string
}

variable "private_subnet_ids" {
  description = "Private subnets in at least two AZs with outbound access (NAT gateway or VPC endpoints for S3, STS, Logs, SQS, EMR Serverless, Secrets Manager). MWAA uses the first two."
  type        = list(string)
}

variable "sensors" {
  description = "Sensor ids that get a put-only IAM role each (NETQOS_SENSOR_ID of each capture agent)."
  type        = set(string)
  default     = []
}

variable "sensor_roles_anywhere_trust_anchor_arn" {
  description = "IAM Roles Anywhere trust anchor for on-premises sensors (certificate CN = sensor id); null = sensor_trusted_principal_arns assume the roles."
  type        = string
  default     = null
}

variable "sensor_trusted_principal_arns" {
  description = "IAM principals allowed to assume the sensor roles when no Roles Anywhere trust anchor is set (e.g. cloud sensors' instance roles)."
  type        = list(string)
  default     = []
}

variable "sensor_users" {
  description = "Sensor ids that get an IAM user (static keys, created out of band) instead of a role."
  type        = set(string)
  default     = []
}

variable "landing_key_prefix" {
  description = "Key prefix of the agents in the landing bucket (NETQOS_CAPTURE__PREFIX), empty or ending in '/'."
  type        = string
  default     = ""
}

variable "sse_algorithm" {
  description = "Bucket encryption: \"aws:kms\" (a customer managed key is created) or \"AES256\" (SSE-S3)."
  type        = string
  default     = "aws:kms"
}

variable "raw_capture_expiry_days" {
  description = "Landed captures expire after this many days (null = keep forever)."
  type        = number
  default     = 90
}

variable "noncurrent_version_expiry_days" {
  description = "Noncurrent object versions are deleted after this many days."
  type        = number
  default     = 30
}

variable "abort_incomplete_multipart_days" {
  description = "Incomplete multipart uploads are aborted after this many days."
  type        = number
  default     = 1
}

variable "spark_may_delete_captures" {
  description = "Allow the maintenance job (Spark role) to delete ingested captures (NETQOS_RETENTION__RAW_CAPTURE_DAYS)."
  type        = bool
  default     = false
}

variable "emr_release_label" {
  description = "EMR Serverless release with Spark 4 matching the shipped Delta jar (see `aws emr-serverless list-releases`)."
  type        = string
}

variable "emr_maximum_cpu" {
  description = "vCPU ceiling of all Spark job runs together (cost cap), e.g. \"64 vCPU\"."
  type        = string
  default     = "64 vCPU"
}

variable "emr_maximum_memory" {
  description = "Memory ceiling of all Spark job runs together, e.g. \"256 GB\"."
  type        = string
  default     = "256 GB"
}

variable "emr_idle_timeout_minutes" {
  description = "Idle minutes before the EMR Serverless application stops."
  type        = number
  default     = 15
}

variable "airflow_version" {
  description = "MWAA Airflow version (an Airflow 3 release: the DAGs use airflow.sdk)."
  type        = string
  default     = "3.0.6"
}

variable "mwaa_environment_class" {
  description = "MWAA environment class (mw1.micro ... mw1.2xlarge)."
  type        = string
  default     = "mw1.small"
}

variable "mwaa_max_workers" {
  description = "Maximum MWAA workers."
  type        = number
  default     = 4
}

variable "mwaa_webserver_access_mode" {
  description = "PRIVATE_ONLY (UI from the VPC only) or PUBLIC_ONLY."
  type        = string
  default     = "PRIVATE_ONLY"
}

variable "mlflow_server_security_group_ids" {
  description = "Security groups of the MLflow tracking server (ECS service / EKS pods) that may reach the database."
  type        = list(string)
  default     = []
}

variable "mlflow_server_trusted_service" {
  description = "Service principal that runs the MLflow server: ecs-tasks.amazonaws.com or pods.eks.amazonaws.com."
  type        = string
  default     = "ecs-tasks.amazonaws.com"
}

variable "db_instance_class" {
  description = "Instance class of the MLflow PostgreSQL."
  type        = string
  default     = "db.t4g.small"
}

variable "db_multi_az" {
  description = "Multi-AZ standby for the MLflow PostgreSQL."
  type        = bool
  default     = true
}

variable "db_backup_retention_days" {
  description = "Automated backup retention of the MLflow PostgreSQL, in days."
  type        = number
  default     = 14
}

variable "db_deletion_protection" {
  description = "Deletion protection of the MLflow PostgreSQL."
  type        = bool
  default     = true
}

variable "log_retention_days" {
  description = "Retention of the CloudWatch log groups created here (EMR jobs, RDS), in days."
  type        = number
  default     = 365
}

variable "tags" {
  description = "Tags on every resource (the provider adds project = netqos)."
  type        = map(string)
  default     = {}
}
