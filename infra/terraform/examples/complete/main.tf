# The whole netqos platform on AWS: buckets, IAM, Spark on EMR Serverless, Airflow on MWAA, MLflow's database.
# The MLflow server itself (a container on ECS or EKS) is not created here: docs/deploy.md (AWS) describes it.
locals {
  mwaa_environment_name = "${var.name_prefix}-airflow"
}

module "buckets" {
  source = "../../modules/buckets"

  name_prefix                     = var.name_prefix
  sse_algorithm                   = var.sse_algorithm
  raw_capture_expiry_days         = var.raw_capture_expiry_days
  noncurrent_version_expiry_days  = var.noncurrent_version_expiry_days
  abort_incomplete_multipart_days = var.abort_incomplete_multipart_days
}

module "spark" {
  source = "../../modules/spark_emr_serverless"

  name                 = "${var.name_prefix}-spark"
  release_label        = var.emr_release_label
  maximum_cpu          = var.emr_maximum_cpu
  maximum_memory       = var.emr_maximum_memory
  idle_timeout_minutes = var.emr_idle_timeout_minutes
  vpc_id               = var.vpc_id
  subnet_ids           = var.private_subnet_ids
  code_bucket_name     = module.buckets.bucket_names["code"]
  kms_key_arn          = module.buckets.kms_key_arn
  log_retention_days   = var.log_retention_days
}

module "mlflow_db" {
  source = "../../modules/mlflow_db"

  identifier                 = "${var.name_prefix}-mlflow"
  vpc_id                     = var.vpc_id
  subnet_ids                 = var.private_subnet_ids
  allowed_security_group_ids = concat([module.spark.security_group_id], var.mlflow_server_security_group_ids)
  instance_class             = var.db_instance_class
  multi_az                   = var.db_multi_az
  backup_retention_days      = var.db_backup_retention_days
  deletion_protection        = var.db_deletion_protection
  kms_key_arn                = module.buckets.kms_key_arn
  log_retention_days         = var.log_retention_days
}

module "iam" {
  source = "../../modules/iam"

  name_prefix                            = var.name_prefix
  bucket_arns                            = module.buckets.bucket_arns
  kms_key_arn                            = module.buckets.kms_key_arn
  landing_key_prefix                     = var.landing_key_prefix
  sensors                                = var.sensors
  sensor_roles_anywhere_trust_anchor_arn = var.sensor_roles_anywhere_trust_anchor_arn
  sensor_trusted_principal_arns          = var.sensor_trusted_principal_arns
  sensor_users                           = var.sensor_users
  emr_application_arn                    = module.spark.application_arn
  emr_log_group_arn                      = module.spark.log_group_arn
  spark_may_delete_captures              = var.spark_may_delete_captures
  mwaa_environment_name                  = local.mwaa_environment_name
  mlflow_server_trusted_service          = var.mlflow_server_trusted_service
  mlflow_db_resource_id                  = module.mlflow_db.resource_id
}

module "airflow" {
  source = "../../modules/airflow_mwaa"

  name                  = local.mwaa_environment_name
  airflow_version       = var.airflow_version
  environment_class     = var.mwaa_environment_class
  max_workers           = var.mwaa_max_workers
  source_bucket_arn     = module.buckets.bucket_arns["airflow"]
  execution_role_arn    = module.iam.airflow_role_arn
  vpc_id                = var.vpc_id
  subnet_ids            = slice(var.private_subnet_ids, 0, 2)
  webserver_access_mode = var.mwaa_webserver_access_mode
  kms_key_arn           = module.buckets.kms_key_arn
}
