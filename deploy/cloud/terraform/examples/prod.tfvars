# terraform plan -var-file=examples/prod.tfvars  (subscription_id from TF_VAR_subscription_id)
environment                    = "prod"
location                       = "southcentralus"
image_tag                      = "0.1.0"
portal_hostname                = "hub.example.com"
postgres_sku                   = "GP_Standard_D2ds_v5"
postgres_storage_mb            = 131072
postgres_high_availability     = true
postgres_backup_retention_days = 35
geo_redundant                  = true
spark_engine                   = "databricks"
mqtt_broker                    = "mosquitto"
portal_min_replicas            = 2
portal_max_replicas            = 6
ingest_replicas                = 2
log_retention_days             = 90
allowed_admin_cidrs            = []
tags                           = { owner = "platform", cost_center = "operations" }
