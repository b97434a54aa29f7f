# terraform plan -var-file=examples/dev.tfvars  (subscription_id from TF_VAR_subscription_id)
environment                    = "dev"
location                       = "southcentralus"
image_tag                      = "0.1.0"
portal_hostname                = "dev.hub.example.com"
postgres_sku                   = "B_Standard_B1ms"
postgres_storage_mb            = 32768
postgres_high_availability     = false
postgres_backup_retention_days = 7
geo_redundant                  = false
spark_engine                   = "container"
mqtt_broker                    = "mosquitto"
portal_min_replicas            = 1
portal_max_replicas            = 2
ingest_replicas                = 1
log_retention_days             = 30
allowed_admin_cidrs            = ["203.0.113.0/24"]
tags                           = { owner = "platform", cost_center = "dev" }
