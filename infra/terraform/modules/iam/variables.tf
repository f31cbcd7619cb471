variable "name_prefix" {
  description = "Prefix of every role and policy name, e.g. \"netqos-prod\"."
  type        = string
}

variable "bucket_arns" {
  description = "Bucket ARN per role, as output by the buckets module: keys landing, lakehouse, mlflow-artifacts, reports, code, airflow."
  type        = map(string)

  validation {
    condition     = alltrue([for k in ["landing", "lakehouse", "mlflow-artifacts", "reports", "code", "airflow"] : contains(keys(var.bucket_arns), k)])
    error_message = "bucket_arns needs the keys landing, lakehouse, mlflow-artifacts, reports, code and airflow."
  }
}

variable "kms_key_arn" {
  description = "ARN of the KMS key encrypting the buckets and log groups (null when they use SSE-S3): every role gets use of it through S3/Logs only."
  type        = string
  default     = null
}

variable "landing_key_prefix" {
  description = "Key prefix the agents put in front of sensor=<id>/ (NETQOS_CAPTURE__PREFIX, e.g. \"site-a/\"); empty by default, like infra/iam/sensor-put-only.json."
  type        = string
  default     = ""

  validation {
    condition     = var.landing_key_prefix == "" || endswith(var.landing_key_prefix, "/")
    error_message = "landing_key_prefix must be empty or end with '/' (same rule as capture.prefix)."
  }
}

variable "sensors" {
  description = "Sensor ids (NETQOS_SENSOR_ID / --sensor) that get an IAM role each, tagged netqos-sensor=<id>: the role may only write under sensor=<id>/ of the landing bucket."
  type        = set(string)
  default     = []

  validation {
    condition     = alltrue([for s in var.sensors : can(regex("^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$", s))])
    error_message = "Sensor ids must be 1-63 letters, digits, '_', '.' or '-' (they become S3 key parts and IAM tag values)."
  }
}

variable "sensor_roles_anywhere_trust_anchor_arn" {
  description = "IAM Roles Anywhere trust anchor ARN: a sensor presenting a certificate whose subject CN equals its sensor id may assume its role (no static keys on the sensor). Null = trust sensor_trusted_principal_arns instead."
  type        = string
  default     = null
}

variable "sensor_trusted_principal_arns" {
  description = "IAM principals (e.g. an EC2 instance role of a cloud sensor, or an operator role) allowed to assume the sensor roles when no Roles Anywhere trust anchor is given."
  type        = list(string)
  default     = []
}

variable "sensor_users" {
  description = "Sensor ids that get an IAM user instead of a role (sensors that can only hold static keys, e.g. no PKI for Roles Anywhere). No access key is created here: create it out of band so it never lands in Terraform state."
  type        = set(string)
  default     = []
}

variable "emr_application_arn" {
  description = "ARN of the EMR Serverless application (spark_emr_serverless module): the Airflow role may start job runs there only, and the Spark role may be assumed only for it."
  type        = string
}

variable "emr_log_group_arn" {
  description = "ARN of the CloudWatch log group of the EMR Serverless jobs (the Spark role writes driver/executor logs there)."
  type        = string
}

variable "spark_may_delete_captures" {
  description = "Let the Spark role delete landed captures (the maintenance job's ledger-aware raw-capture retention, NETQOS_RETENTION__RAW_CAPTURE_DAYS). False: retention is left to the landing bucket's lifecycle rule."
  type        = bool
  default     = false
}

variable "mwaa_environment_name" {
  description = "Name of the MWAA environment whose execution role this module creates (MWAA log groups and metrics are scoped by it)."
  type        = string
}

variable "mlflow_server_trusted_service" {
  description = "Service principal that runs the MLflow tracking server and assumes its role: ecs-tasks.amazonaws.com (ECS/Fargate) or pods.eks.amazonaws.com (EKS Pod Identity)."
  type        = string
  default     = "ecs-tasks.amazonaws.com"
}

variable "mlflow_db_resource_id" {
  description = "DbiResourceId of the MLflow RDS instance (mlflow_db module) for IAM database authentication; null leaves rds-db:connect out."
  type        = string
  default     = null
}

variable "mlflow_db_iam_user" {
  description = "PostgreSQL role the MLflow server logs in as with IAM authentication (created in the database with GRANT rds_iam)."
  type        = string
  default     = "mlflow"
}

variable "tags" {
  description = "Tags added to every resource of the module."
  type        = map(string)
  default     = {}
}
