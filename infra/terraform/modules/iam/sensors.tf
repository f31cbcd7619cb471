# Sensors: PutObject under their own prefix only, the same statements as infra/iam/sensor-put-only.json (the unit
# test compares them). The sensor id comes from the principal tag netqos-sensor, so one policy serves all sensors.
locals {
  # "$${" is a literal "${": IAM, not Terraform, expands the policy variable.
  own_prefix = "${local.landing}/${var.landing_key_prefix}sensor=$${aws:PrincipalTag/netqos-sensor}"
}

data "aws_iam_policy_document" "sensor" {
  statement {
    sid     = "PutOwnCapturesOnly"
    actions = ["s3:PutObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"]
    resources = [
      "${local.own_prefix}/*",
      "${local.landing}/${var.landing_key_prefix}_health/sensor=$${aws:PrincipalTag/netqos-sensor}.json",
    ]
  }

  # HEAD before deleting the spool copy (size + sha256): HeadObject is authorised by s3:GetObject.
  statement {
    sid       = "VerifyOwnCaptures"
    actions   = ["s3:GetObject"]
    resources = ["${local.own_prefix}/*"]
  }

  statement {
    sid       = "ListOwnPrefixForIdempotenceAndCleanup"
    actions   = ["s3:ListBucket", "s3:ListBucketMultipartUploads"]
    resources = [local.landing]
    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = ["${var.landing_key_prefix}sensor=$${aws:PrincipalTag/netqos-sensor}/*"]
    }
  }

  statement {
    sid       = "TlsOnly"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [local.landing, "${local.landing}/*"]
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }

  dynamic "statement" {
    for_each = local.kms_statements
    content {
      sid = "EncryptCapturesThroughS3"
      # Decrypt: completing a multipart upload and the verifying HEAD read the data key.
      actions   = ["kms:GenerateDataKey", "kms:Decrypt"]
      resources = [statement.value]
      condition {
        test     = "StringEquals"
        variable = "kms:ViaService"
        values   = ["s3.${local.region}.amazonaws.com"]
      }
    }
  }
}

resource "aws_iam_policy" "sensor" {
  name        = "${var.name_prefix}-sensor-put-own-prefix"
  description = "netqos capture agent: put captures and the heartbeat under its own sensor=<netqos-sensor tag>/ prefix only"
  policy      = data.aws_iam_policy_document.sensor.json
  tags        = var.tags
}

data "aws_iam_policy_document" "sensor_trust" {
  for_each = var.sensors

  dynamic "statement" {
    for_each = var.sensor_roles_anywhere_trust_anchor_arn == null ? [] : [var.sensor_roles_anywhere_trust_anchor_arn]
    content {
      sid = "RolesAnywhereCertificateOfThisSensor"
      # Roles Anywhere needs TagSession: the tags it sets are the certificate's x509* attributes, never netqos-sensor.
      actions = ["sts:AssumeRole", "sts:TagSession", "sts:SetSourceIdentity"]
      principals {
        type        = "Service"
        identifiers = ["rolesanywhere.amazonaws.com"]
      }
      condition {
        test     = "ArnEquals"
        variable = "aws:SourceArn"
        values   = [statement.value]
      }
      condition {
        test     = "StringEquals"
        variable = "aws:PrincipalTag/x509Subject/CN"
        values   = [each.key]
      }
    }
  }

  dynamic "statement" {
    for_each = var.sensor_roles_anywhere_trust_anchor_arn == null ? [1] : []
    content {
      sid = "TrustedPrincipals"
      # No sts:TagSession: a caller must not be able to override the role's netqos-sensor tag with a session tag.
      actions = ["sts:AssumeRole"]
      principals {
        type        = "AWS"
        identifiers = length(var.sensor_trusted_principal_arns) > 0 ? var.sensor_trusted_principal_arns : ["arn:${local.partition}:iam::${local.account_id}:root"]
      }
    }
  }
}

resource "aws_iam_role" "sensor" {
  for_each = var.sensors

  name                 = "${var.name_prefix}-sensor-${each.key}"
  description          = "netqos capture agent of sensor ${each.key}"
  assume_role_policy   = data.aws_iam_policy_document.sensor_trust[each.key].json
  max_session_duration = 3600
  tags                 = merge(var.tags, { "netqos-sensor" = each.key })
}

resource "aws_iam_role_policy_attachment" "sensor" {
  for_each = aws_iam_role.sensor

  role       = each.value.name
  policy_arn = aws_iam_policy.sensor.arn
}

resource "aws_iam_user" "sensor" {
  for_each = var.sensor_users

  name = "${var.name_prefix}-sensor-${each.key}"
  tags = merge(var.tags, { "netqos-sensor" = each.key })

  #checkov:skip=CKV_AWS_273:Opt-in (sensor_users, empty by default) for on-premises sensors that cannot use Roles Anywhere or SSO; the user can only put under its own prefix and no key is created by Terraform.
}

resource "aws_iam_user_policy_attachment" "sensor" {
  for_each = aws_iam_user.sensor

  user       = each.value.name
  policy_arn = aws_iam_policy.sensor.arn

  #checkov:skip=CKV_AWS_40:The sensor users exist only to carry this one policy; a group per user adds nothing and the managed policy is shared already.
}
