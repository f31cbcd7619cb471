variable "name" {
  description = "Name of the EMR Serverless application, e.g. \"netqos-prod-spark\"."
  type        = string
}

variable "release_label" {
  description = "EMR release of the application. netqos needs Spark 4 (pyspark 4.x, Delta 4.x): pick a release whose Spark matches the Delta jar you ship (`aws emr-serverless list-releases`)."
  type        = string
}

variable "architecture" {
  description = "CPU architecture of the workers: ARM64 (Graviton, cheaper per vCPU-hour) or X86_64."
  type        = string
  default     = "ARM64"

  validation {
    condition     = contains(["ARM64", "X86_64"], var.architecture)
    error_message = "architecture must be ARM64 or X86_64."
  }
}

variable "maximum_cpu" {
  description = "Cap on the vCPUs all running jobs of the application may use together (a cost ceiling), e.g. \"64 vCPU\"."
  type        = string
  default     = "64 vCPU"
}

variable "maximum_memory" {
  description = "Cap on the memory all running jobs may use together, e.g. \"256 GB\"."
  type        = string
  default     = "256 GB"
}

variable "maximum_disk" {
  description = "Cap on the worker disk all running jobs may use together, e.g. \"1000 GB\"."
  type        = string
  default     = "1000 GB"
}

variable "idle_timeout_minutes" {
  description = "The application stops (and stops billing pre-warmed capacity) after this many idle minutes; the next job run starts it again."
  type        = number
  default     = 15
}

variable "max_concurrent_runs" {
  description = "Job runs that may run at once; more are queued. The DAGs already serialise writers of a table with pools."
  type        = number
  default     = 4
}

variable "vpc_id" {
  description = "VPC for the job workers (they reach the Hive metastore / MLflow in it); null runs them without VPC access (S3 and public endpoints only)."
  type        = string
  default     = null
}

variable "subnet_ids" {
  description = "Private subnets of the job workers (with a NAT gateway or S3/STS/Logs VPC endpoints); used when vpc_id is set."
  type        = list(string)
  default     = []
}

variable "code_bucket_name" {
  description = "Bucket holding the job code (jobs/spark/*.py, the netqos wheel, jars) and the job logs (emr-logs/)."
  type        = string
}

variable "kms_key_arn" {
  description = "KMS key encrypting the CloudWatch log group and the S3 job logs; null uses the services' default encryption."
  type        = string
  default     = null
}

variable "log_retention_days" {
  description = "Retention of the jobs' CloudWatch log group, in days."
  type        = number
  default     = 365
}

variable "tags" {
  description = "Tags added to every resource of the module."
  type        = map(string)
  default     = {}
}
