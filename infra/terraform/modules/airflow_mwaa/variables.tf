variable "name" {
  description = "Name of the MWAA environment (must equal mwaa_environment_name of the iam module, which scopes the role to it)."
  type        = string
}

variable "airflow_version" {
  description = "Airflow version of the environment. The DAGs need Airflow 3 (airflow.sdk): use an Airflow 3 version MWAA offers in the region."
  type        = string
  default     = "3.0.6"
}

variable "environment_class" {
  description = "MWAA environment class (mw1.micro, mw1.small, mw1.medium, mw1.large, ...): the scheduler/worker size and most of the cost."
  type        = string
  default     = "mw1.small"
}

variable "min_workers" {
  description = "Workers always running."
  type        = number
  default     = 1
}

variable "max_workers" {
  description = "Workers MWAA may scale out to (tasks mostly wait on EMR Serverless job runs, so few are needed)."
  type        = number
  default     = 4
}

variable "source_bucket_arn" {
  description = "ARN of the versioned DAG bucket (buckets module, key airflow): dags/ holds the DAGs and the netqos package, requirements.txt the extra packages."
  type        = string
}

variable "dag_s3_path" {
  description = "Folder of the DAGs in the source bucket."
  type        = string
  default     = "dags/"
}

variable "requirements_s3_path" {
  description = "Path of requirements.txt in the source bucket; null installs nothing extra."
  type        = string
  default     = "requirements.txt"
}

variable "requirements_s3_object_version" {
  description = "S3 object version of requirements.txt (MWAA installs exactly that version; bump it to roll out new requirements). Null = latest at creation."
  type        = string
  default     = null
}

variable "execution_role_arn" {
  description = "ARN of the MWAA execution role (iam module output airflow_role_arn)."
  type        = string
}

variable "vpc_id" {
  description = "VPC of the environment."
  type        = string
}

variable "subnet_ids" {
  description = "Two private subnets in different AZs (MWAA requires exactly two, with outbound access through NAT or VPC endpoints)."
  type        = list(string)

  validation {
    condition     = length(var.subnet_ids) == 2
    error_message = "MWAA needs exactly two private subnets."
  }
}

variable "webserver_access_mode" {
  description = "PRIVATE_ONLY (default: the UI is reachable from the VPC only, e.g. over VPN) or PUBLIC_ONLY (internet-facing, still behind IAM login)."
  type        = string
  default     = "PRIVATE_ONLY"

  validation {
    condition     = contains(["PRIVATE_ONLY", "PUBLIC_ONLY"], var.webserver_access_mode)
    error_message = "webserver_access_mode must be PRIVATE_ONLY or PUBLIC_ONLY."
  }
}

variable "kms_key_arn" {
  description = "KMS key for the environment's data; null uses the AWS owned key."
  type        = string
  default     = null
}

variable "log_level" {
  description = "Level of every Airflow log stream sent to CloudWatch (CRITICAL, ERROR, WARNING, INFO, DEBUG)."
  type        = string
  default     = "INFO"
}

variable "airflow_configuration_options" {
  description = "Extra airflow.cfg options and environment for the DAGs (section.key = value); NETQOS_* settings go through the netqos.toml in dags/ or a startup script, secrets through the Secrets Manager backend."
  type        = map(string)
  default     = {}
}

variable "weekly_maintenance_window_start" {
  description = "Start of MWAA's weekly maintenance window, DAY:HH:MM in UTC."
  type        = string
  default     = "SUN:03:00"
}

variable "tags" {
  description = "Tags added to every resource of the module."
  type        = map(string)
  default     = {}
}
