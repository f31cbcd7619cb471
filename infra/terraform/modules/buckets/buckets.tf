# The data buckets, all hardened the same way: SSE (KMS or S3), versioning, no public access, no ACLs, TLS only,
# access logs to the log bucket, lifecycle (noncurrent versions, incomplete multipart uploads, raw captures).
locals {
  buckets = {
    landing          = "${var.name_prefix}-landing"          # captures from the sensors: sensor=<id>/date=/hour=/
    lakehouse        = "${var.name_prefix}-lakehouse"        # the Delta warehouse (NETQOS_LAKE__WAREHOUSE_DIR)
    mlflow-artifacts = "${var.name_prefix}-mlflow-artifacts" # MLflow --artifacts-destination
    reports          = "${var.name_prefix}-reports"          # nightly QoS reports (NETQOS_REPORT__BUCKET)
    code             = "${var.name_prefix}-code"             # Spark job code, the netqos wheel, jars, EMR logs
    airflow          = "airflow-${var.name_prefix}"          # MWAA source bucket: dags/, requirements.txt
  }
}

resource "aws_s3_bucket" "data" {
  for_each = local.buckets

  bucket        = each.value
  force_destroy = var.force_destroy
  tags          = merge(var.tags, { "netqos-bucket" = each.key })

  #checkov:skip=CKV_AWS_144:Cross-region replication doubles storage cost; captures can be re-landed from sensors' spools and the lake rebuilt from them. Add aws_s3_bucket_replication_configuration where a DR policy requires it.
  #checkov:skip=CKV2_AWS_62:No consumer for event notifications: the netqos_ingest DAG lists new landing objects every 10 minutes and the ingest ledger makes it exactly-once.
}

resource "aws_s3_bucket_ownership_controls" "data" {
  for_each = aws_s3_bucket.data

  bucket = each.value.id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "data" {
  for_each = aws_s3_bucket.data

  bucket                  = each.value.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_server_side_encryption_configuration" "data" {
  for_each = aws_s3_bucket.data

  bucket = each.value.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = var.sse_algorithm
      kms_master_key_id = local.kms_key_arn
    }
    # One data key per bucket instead of one KMS call per object: Spark writes many small files.
    bucket_key_enabled = var.sse_algorithm == "aws:kms"
  }
}

resource "aws_s3_bucket_versioning" "data" {
  for_each = aws_s3_bucket.data

  bucket = each.value.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_logging" "data" {
  for_each = aws_s3_bucket.data

  bucket        = each.value.id
  target_bucket = aws_s3_bucket.logs.id
  target_prefix = "s3/${each.value.id}/"
}

resource "aws_s3_bucket_lifecycle_configuration" "data" {
  for_each = aws_s3_bucket.data

  bucket = each.value.id
  # Versioning must be on before noncurrent-version rules mean anything.
  depends_on = [aws_s3_bucket_versioning.data]

  rule {
    id     = "noncurrent-versions-and-incomplete-uploads"
    status = "Enabled"
    filter {}

    noncurrent_version_expiration {
      noncurrent_days = var.noncurrent_version_expiry_days
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = var.abort_incomplete_multipart_days
    }
  }

  dynamic "rule" {
    for_each = each.key == "landing" && var.raw_capture_expiry_days != null ? [var.raw_capture_expiry_days] : []
    content {
      id     = "raw-capture-retention"
      status = "Enabled"
      filter {}

      expiration {
        days = rule.value
      }
    }
  }

  dynamic "rule" {
    for_each = each.key == "landing" ? [var.heartbeat_version_expiry_days] : []
    content {
      id     = "heartbeat-versions"
      status = "Enabled"
      filter {
        prefix = "_health/"
      }

      noncurrent_version_expiration {
        noncurrent_days = rule.value
      }
    }
  }
}

resource "aws_s3_bucket_policy" "data" {
  for_each = aws_s3_bucket.data

  bucket = each.value.id
  policy = data.aws_iam_policy_document.tls_only[each.key].json
  # A bucket policy set before the public access block could be judged public and refused.
  depends_on = [aws_s3_bucket_public_access_block.data]
}

data "aws_iam_policy_document" "tls_only" {
  for_each = aws_s3_bucket.data

  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [each.value.arn, "${each.value.arn}/*"]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }

  statement {
    sid       = "DenyTlsOlderThan12"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [each.value.arn, "${each.value.arn}/*"]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    condition {
      test     = "NumericLessThan"
      variable = "s3:TlsVersion"
      values   = ["1.2"]
    }
  }
}
