data "aws_caller_identity" "current" {}
data "aws_region" "current" {}
data "aws_partition" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  region     = data.aws_region.current.region
  partition  = data.aws_partition.current.partition
  landing    = var.bucket_arns["landing"]
  # KMS use is limited to requests S3 (or Logs) makes on the caller's behalf.
  kms_statements = var.kms_key_arn == null ? [] : [var.kms_key_arn]
}
