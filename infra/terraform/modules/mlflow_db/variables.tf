variable "identifier" {
  description = "RDS instance identifier, e.g. \"netqos-prod-mlflow\"."
  type        = string
}

variable "vpc_id" {
  description = "VPC of the database."
  type        = string
}

variable "subnet_ids" {
  description = "Private subnets (at least two AZs) of the DB subnet group."
  type        = list(string)

  validation {
    condition     = length(var.subnet_ids) >= 2
    error_message = "An RDS subnet group needs subnets in at least two availability zones."
  }
}

variable "allowed_security_group_ids" {
  description = "Security groups allowed to connect on 5432: the MLflow server, and the Spark workers / MWAA when the Hive metastore database lives on this instance too."
  type        = list(string)
  default     = []
}

variable "engine_version" {
  description = "PostgreSQL major version (the parameter group family follows it)."
  type        = string
  default     = "17"
}

variable "instance_class" {
  description = "DB instance class; MLflow's tracking store is small (runs, params, metrics, registry)."
  type        = string
  default     = "db.t4g.small"
}

variable "allocated_storage_gb" {
  description = "Initial storage in GB (gp3)."
  type        = number
  default     = 20
}

variable "max_allocated_storage_gb" {
  description = "Storage autoscaling ceiling in GB."
  type        = number
  default     = 100
}

variable "database_name" {
  description = "Database created at launch for the MLflow tracking store (create a second one, e.g. metastore, for the Hive metastore if wanted)."
  type        = string
  default     = "mlflow"
}

variable "master_username" {
  description = "Master user name; its password is generated and rotated by RDS in Secrets Manager (manage_master_user_password), never in Terraform."
  type        = string
  default     = "netqos_admin"
}

variable "multi_az" {
  description = "Standby replica in a second AZ (automatic failover; doubles the instance cost)."
  type        = bool
  default     = true
}

variable "backup_retention_days" {
  description = "Days of automated backups (point-in-time recovery window)."
  type        = number
  default     = 14

  validation {
    condition     = var.backup_retention_days >= 1 && var.backup_retention_days <= 35
    error_message = "backup_retention_days must be 1-35 (0 would disable backups)."
  }
}

variable "deletion_protection" {
  description = "Refuse to delete the instance (turn off explicitly before a planned destroy)."
  type        = bool
  default     = true
}

variable "kms_key_arn" {
  description = "KMS key for storage, Performance Insights and the master password secret; null uses the AWS managed keys."
  type        = string
  default     = null
}

variable "log_retention_days" {
  description = "Retention of the exported PostgreSQL logs in CloudWatch, in days."
  type        = number
  default     = 365
}

variable "tags" {
  description = "Tags added to every resource of the module."
  type        = map(string)
  default     = {}
}
