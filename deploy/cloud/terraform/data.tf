# --- Key Vault: every secret of the deployment -------------------------------------------

resource "azurerm_key_vault" "hub" {
  # checkov:skip=CKV_AZURE_189:the data plane is deny-by-default (network_acls) and public access is on only when allowed_admin_cidrs names the CI runners that write secrets; the apps use the private endpoint
  name                          = "kv-${local.compact}"
  location                      = azurerm_resource_group.hub.location
  resource_group_name           = azurerm_resource_group.hub.name
  tenant_id                     = data.azurerm_client_config.current.tenant_id
  sku_name                      = "standard"
  rbac_authorization_enabled    = true
  purge_protection_enabled      = true
  soft_delete_retention_days    = 90
  public_network_access_enabled = length(var.allowed_admin_cidrs) > 0
  network_acls {
    default_action = "Deny"
    bypass         = "AzureServices"
    ip_rules       = var.allowed_admin_cidrs
  }
  tags = local.tags
}

resource "azurerm_private_endpoint" "vault" {
  name                = "pe-${local.name}-vault"
  location            = azurerm_resource_group.hub.location
  resource_group_name = azurerm_resource_group.hub.name
  subnet_id           = azurerm_subnet.endpoints.id
  private_service_connection {
    name                           = "vault"
    private_connection_resource_id = azurerm_key_vault.hub.id
    subresource_names              = ["vault"]
    is_manual_connection           = false
  }
  private_dns_zone_group {
    name                 = "vault"
    private_dns_zone_ids = [azurerm_private_dns_zone.zones["privatelink.vaultcore.azure.net"].id]
  }
  tags = local.tags
}

resource "azurerm_role_assignment" "deployer_secrets" {
  scope                = azurerm_key_vault.hub.id
  role_definition_name = "Key Vault Secrets Officer"
  principal_id         = data.azurerm_client_config.current.object_id
}

resource "azurerm_role_assignment" "apps_secrets" {
  scope                = azurerm_key_vault.hub.id
  role_definition_name = "Key Vault Secrets User"
  principal_id         = azurerm_user_assigned_identity.apps.principal_id
}

# Generated secrets are ephemeral: they exist only during apply, are written to Key Vault
# (and the database server) through write-only arguments, and never reach the state.
ephemeral "random_password" "postgres" {
  length  = 40
  special = false
}

ephemeral "random_password" "portal_secret_key" {
  length  = 64
  special = false
}

ephemeral "random_password" "mqtt_hub" {
  length  = 40
  special = false
}

locals {
  # Rotating a generated secret: bump its version here (docs/RUNBOOK.md, "Rotate keys").
  secret_versions = {
    postgres_password = 1
    portal_secret_key = 1
    mqtt_hub_password = 1
  }
}

resource "azurerm_key_vault_secret" "postgres_password" {
  name             = "postgres-password"
  key_vault_id     = azurerm_key_vault.hub.id
  value_wo         = ephemeral.random_password.postgres.result
  value_wo_version = local.secret_versions.postgres_password
  content_type     = "text/plain"
  expiration_date  = timeadd(plantimestamp(), "8760h")
  depends_on       = [azurerm_role_assignment.deployer_secrets]
  lifecycle {
    ignore_changes = [expiration_date]
  }
}

resource "azurerm_key_vault_secret" "database_url" {
  name             = "database-url"
  key_vault_id     = azurerm_key_vault.hub.id
  value_wo         = "postgresql+psycopg://altaviz:${ephemeral.random_password.postgres.result}@${azurerm_postgresql_flexible_server.serving.fqdn}:5432/altaviz?sslmode=require"
  value_wo_version = local.secret_versions.postgres_password
  content_type     = "text/plain"
  expiration_date  = timeadd(plantimestamp(), "8760h")
  depends_on       = [azurerm_role_assignment.deployer_secrets]
  lifecycle {
    ignore_changes = [expiration_date]
  }
}

resource "azurerm_key_vault_secret" "portal_secret_key" {
  name             = "portal-secret-key"
  key_vault_id     = azurerm_key_vault.hub.id
  value_wo         = ephemeral.random_password.portal_secret_key.result
  value_wo_version = local.secret_versions.portal_secret_key
  content_type     = "text/plain"
  expiration_date  = timeadd(plantimestamp(), "8760h")
  depends_on       = [azurerm_role_assignment.deployer_secrets]
  lifecycle {
    ignore_changes = [expiration_date]
  }
}

resource "azurerm_key_vault_secret" "mqtt_hub_password" {
  name             = "mqtt-hub-password"
  key_vault_id     = azurerm_key_vault.hub.id
  value_wo         = ephemeral.random_password.mqtt_hub.result
  value_wo_version = local.secret_versions.mqtt_hub_password
  content_type     = "text/plain"
  expiration_date  = timeadd(plantimestamp(), "8760h")
  depends_on       = [azurerm_role_assignment.deployer_secrets]
  lifecycle {
    ignore_changes = [expiration_date]
  }
}

resource "azurerm_key_vault_secret" "appinsights" {
  name             = "appinsights-connection-string"
  key_vault_id     = azurerm_key_vault.hub.id
  value_wo         = azurerm_application_insights.hub.connection_string
  value_wo_version = 1
  content_type     = "text/plain"
  expiration_date  = timeadd(plantimestamp(), "8760h")
  depends_on       = [azurerm_role_assignment.deployer_secrets]
  lifecycle {
    ignore_changes = [expiration_date]
  }
}

# --- PostgreSQL flexible server: the serving database, private access only -----------------

resource "azurerm_postgresql_flexible_server" "serving" {
  # checkov:skip=CKV_AZURE_136:geo-redundant backups follow var.geo_redundant: on in prod (examples/prod.tfvars), off in dev to save cost
  # checkov:skip=CKV2_AZURE_57:private access through VNet integration (delegated subnet, public access disabled) is the alternative to a private endpoint; the server has no public endpoint
  name                              = "psql-${local.compact}"
  location                          = azurerm_resource_group.hub.location
  resource_group_name               = azurerm_resource_group.hub.name
  version                           = "16"
  sku_name                          = var.postgres_sku
  storage_mb                        = var.postgres_storage_mb
  delegated_subnet_id               = azurerm_subnet.postgres.id
  private_dns_zone_id               = azurerm_private_dns_zone.zones["privatelink.postgres.database.azure.com"].id
  public_network_access_enabled     = false
  administrator_login               = "altaviz"
  administrator_password_wo         = ephemeral.random_password.postgres.result
  administrator_password_wo_version = local.secret_versions.postgres_password
  backup_retention_days             = var.postgres_backup_retention_days
  geo_redundant_backup_enabled      = var.geo_redundant
  zone                              = "1"
  dynamic "high_availability" {
    for_each = var.postgres_high_availability ? [1] : []
    content {
      mode                      = "ZoneRedundant"
      standby_availability_zone = "2"
    }
  }
  depends_on = [azurerm_private_dns_zone_virtual_network_link.zones]
  tags       = local.tags
}

resource "azurerm_postgresql_flexible_server_database" "altaviz" {
  name      = "altaviz"
  server_id = azurerm_postgresql_flexible_server.serving.id
  charset   = "UTF8"
  collation = "en_US.utf8"
}

resource "azurerm_postgresql_flexible_server_configuration" "tls" {
  name      = "require_secure_transport"
  server_id = azurerm_postgresql_flexible_server.serving.id
  value     = "on"
}

resource "azurerm_postgresql_flexible_server_configuration" "log_connections" {
  name      = "log_connections"
  server_id = azurerm_postgresql_flexible_server.serving.id
  value     = "on"
}

# --- Storage with a hierarchical namespace: the Delta tables (abfss://) --------------------

resource "azurerm_storage_account" "lake" {
  # checkov:skip=CKV_AZURE_206:replication is ZRS in dev and GZRS in prod (var.geo_redundant); checkov cannot evaluate the variable
  # checkov:skip=CKV_AZURE_33:the lake account has no queues; queue logging would log nothing
  # checkov:skip=CKV2_AZURE_1:Microsoft-managed keys plus infrastructure (double) encryption; a customer-managed key is a documented option (docs/RUNBOOK.md) that adds a Key Vault key per customer
  name                            = "st${local.compact}"
  location                        = azurerm_resource_group.hub.location
  resource_group_name             = azurerm_resource_group.hub.name
  account_kind                    = "StorageV2"
  account_tier                    = "Standard"
  account_replication_type        = var.geo_redundant ? "GZRS" : "ZRS"
  is_hns_enabled                  = true
  min_tls_version                 = "TLS1_2"
  https_traffic_only_enabled      = true
  public_network_access_enabled   = false
  allow_nested_items_to_be_public = false
  shared_access_key_enabled       = false
  local_user_enabled              = false
  infrastructure_encryption_enabled = true
  network_rules {
    default_action = "Deny"
    bypass         = ["AzureServices", "Logging", "Metrics"]
  }
  blob_properties {
    delete_retention_policy {
      days = 14
    }
    container_delete_retention_policy {
      days = 14
    }
  }
  sas_policy {
    expiration_period = "00.01:00:00"
  }
  tags = local.tags
}

resource "azurerm_storage_container" "lake" {
  # checkov:skip=CKV2_AZURE_21:blob read/write/delete logs go to Log Analytics through azurerm_monitor_diagnostic_setting.lake_blob (monitoring.tf)
  name                  = "lake"
  storage_account_id    = azurerm_storage_account.lake.id
  container_access_type = "private"
}

resource "azurerm_private_endpoint" "lake" {
  for_each            = toset(["dfs", "blob"])
  name                = "pe-${local.name}-lake-${each.key}"
  location            = azurerm_resource_group.hub.location
  resource_group_name = azurerm_resource_group.hub.name
  subnet_id           = azurerm_subnet.endpoints.id
  private_service_connection {
    name                           = "lake-${each.key}"
    private_connection_resource_id = azurerm_storage_account.lake.id
    subresource_names              = [each.key]
    is_manual_connection           = false
  }
  private_dns_zone_group {
    name                 = "lake-${each.key}"
    private_dns_zone_ids = [azurerm_private_dns_zone.zones["privatelink.${each.key}.core.windows.net"].id]
  }
  tags = local.tags
}

resource "azurerm_role_assignment" "apps_lake" {
  scope                = azurerm_storage_account.lake.id
  role_definition_name = "Storage Blob Data Contributor"
  principal_id         = azurerm_user_assigned_identity.apps.principal_id
}
