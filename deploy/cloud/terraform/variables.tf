# Every input of the Altaviz hub on Azure. Secrets are never variables: Terraform generates
# the ones it can (write-only, into Key Vault) and operators add the rest to Key Vault
# (see docs/RUNBOOK.md, "Secrets"). Examples: examples/dev.tfvars, examples/prod.tfvars.

variable "subscription_id" {
  description = "Azure subscription that holds the deployment."
  type        = string
}

variable "environment" {
  description = "Short environment name used in every resource name: dev, staging or prod."
  type        = string
  validation {
    condition     = can(regex("^[a-z][a-z0-9]{1,7}$", var.environment))
    error_message = "environment: 2-8 lower-case letters and digits, starting with a letter."
  }
}

variable "location" {
  description = "Azure region, e.g. southcentralus (close to the Texas stations)."
  type        = string
  default     = "southcentralus"
}

variable "name_prefix" {
  description = "Prefix of resource names (lower-case letters and digits, globally unique names add a suffix)."
  type        = string
  default     = "altaviz"
}

variable "image_tag" {
  description = "Tag of the altaviz-hub and altaviz-pipeline images in the registry (a release, never latest)."
  type        = string
}

variable "vnet_cidr" {
  description = "Address space of the deployment's virtual network."
  type        = string
  default     = "10.40.0.0/16"
}

variable "postgres_sku" {
  description = "PostgreSQL flexible server SKU, e.g. B_Standard_B1ms (dev) or GP_Standard_D2ds_v5 (prod)."
  type        = string
  default     = "B_Standard_B1ms"
}

variable "postgres_storage_mb" {
  description = "PostgreSQL storage in MB."
  type        = number
  default     = 32768
}

variable "postgres_high_availability" {
  description = "Zone-redundant standby for the serving database (prod)."
  type        = bool
  default     = false
}

variable "postgres_backup_retention_days" {
  description = "Point-in-time restore window of the serving database, 7-35 days."
  type        = number
  default     = 14
}

variable "geo_redundant" {
  description = "Geo-redundant backups (PostgreSQL) and storage replication (GZRS) for the lake."
  type        = bool
  default     = false
}

variable "spark_engine" {
  description = "Where the pipeline runs at scale: databricks (an Azure Databricks workspace), synapse (a Synapse Spark pool) or container (the pipeline container app, local[*] Spark)."
  type        = string
  default     = "container"
  validation {
    condition     = contains(["databricks", "synapse", "container"], var.spark_engine)
    error_message = "spark_engine: databricks, synapse or container."
  }
}

variable "mqtt_broker" {
  description = "The stations' MQTT broker: mosquitto (a container app with TCP ingress on 8883) or event_grid (Event Grid namespace MQTT broker)."
  type        = string
  default     = "mosquitto"
  validation {
    condition     = contains(["mosquitto", "event_grid"], var.mqtt_broker)
    error_message = "mqtt_broker: mosquitto or event_grid."
  }
}

variable "portal_hostname" {
  description = "Public host name of the portal (its base URL is https://<portal_hostname>)."
  type        = string
}

variable "portal_min_replicas" {
  description = "Portal replicas kept running (2+ in prod for zero-downtime upgrades)."
  type        = number
  default     = 1
}

variable "portal_max_replicas" {
  description = "Portal replicas the HTTP scaler may add under load."
  type        = number
  default     = 3
}

variable "ingest_replicas" {
  description = "Ingest workers behind the MQTT shared subscription (each lands a share of the batches)."
  type        = number
  default     = 1
}

variable "workflows_args" {
  description = "Arguments of altaviz-hub for the workflows scheduler app (its command from the workflows package)."
  type        = list(string)
  default     = ["workflows", "run", "--json-logs"]
}

variable "log_retention_days" {
  description = "Log Analytics retention (30-730 days)."
  type        = number
  default     = 30
}

variable "allowed_admin_cidrs" {
  description = "Addresses allowed to reach Key Vault and the registry's data plane from outside the VNet (CI runners, operators)."
  type        = list(string)
  default     = []
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
