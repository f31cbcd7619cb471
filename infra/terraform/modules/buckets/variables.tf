variable "name_prefix" {
  description = "Prefix of every bucket name (bucket names are global: include your org or account, e.g. \"acme-netqos-prod\"). The DAG bucket is named airflow-<prefix>."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9-]{1,40}[a-z0-9]$", var.name_prefix))
    error_message = "name_prefix must be 3-42 lowercase letters, digits or hyphens (it becomes part of S3 bucket names)."
  }
}

variable "sse_algorithm" {
  description = "Default encryption of the data buckets: \"aws:kms\" (SSE-KMS with a customer managed key) or \"AES256\" (SSE-S3). The access-log bucket always uses SSE-S3 (S3 server access logging cannot write to SSE-KMS buckets)."
  type        = string
  default     = "aws:kms"

  validation {
    condition     = contains(["aws:kms", "AES256"], var.sse_algorithm)
    error_message = "sse_algorithm must be \"aws:kms\" or \"AES256\"."
  }
}

variable "kms_key_arn" {
  description = "ARN of an existing KMS key for SSE-KMS; null creates a dedicated customer managed key (with rotation). Ignored when sse_algorithm is AES256."
  type        = string
  default     = null
}

variable "raw_capture_expiry_days" {
  description = "Landed captures (landing bucket) expire this many days after upload; null keeps them forever. The maintenance job's ledger-aware expiry (NETQOS_RETENTION__RAW_CAPTURE_DAYS) can run as well: this is the backstop."
  type        = number
  default     = 90

  validation {
    condition     = var.raw_capture_expiry_days == null ? true : var.raw_capture_expiry_days >= 1
    error_message = "raw_capture_expiry_days must be null or at least 1."
  }
}

variable "noncurrent_version_expiry_days" {
  description = "Overwritten or deleted object versions are removed this many days after they become noncurrent (every bucket is versioned)."
  type        = number
  default     = 30
}

variable "heartbeat_version_expiry_days" {
  description = "Noncurrent versions of the sensors' heartbeat objects (_health/, rewritten every few seconds) are removed after this many days."
  type        = number
  default     = 1
}

variable "abort_incomplete_multipart_days" {
  description = "Incomplete multipart uploads (a crashed agent or job) are aborted this many days after they started."
  type        = number
  default     = 1
}

variable "access_log_expiry_days" {
  description = "S3 server access logs are kept this many days in the log bucket."
  type        = number
  default     = 365
}

variable "force_destroy" {
  description = "Allow terraform destroy to delete non-empty buckets. Keep false outside throwaway test accounts."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags added to every resource of the module."
  type        = map(string)
  default     = {}
}
