resource "azurerm_log_analytics_workspace" "hub" {
  name                = "log-${local.name}"
  location            = azurerm_resource_group.hub.location
  resource_group_name = azurerm_resource_group.hub.name
  sku                 = "PerGB2018"
  retention_in_days   = var.log_retention_days
  tags                = local.tags
}

# Traces from the hub services (ALTAVIZ_HUB_OBSERVABILITY__TRACES=azure_monitor).
resource "azurerm_application_insights" "hub" {
  name                       = "appi-${local.name}"
  location                   = azurerm_resource_group.hub.location
  resource_group_name        = azurerm_resource_group.hub.name
  workspace_id               = azurerm_log_analytics_workspace.hub.id
  application_type           = "other"
  local_authentication_disabled = false
  internet_ingestion_enabled = true
  internet_query_enabled     = false
  tags                       = local.tags
}

# Blob reads, writes and deletes of the lake, kept in Log Analytics.
resource "azurerm_monitor_diagnostic_setting" "lake_blob" {
  name                       = "lake-blob"
  target_resource_id         = "${azurerm_storage_account.lake.id}/blobServices/default"
  log_analytics_workspace_id = azurerm_log_analytics_workspace.hub.id
  enabled_log {
    category = "StorageRead"
  }
  enabled_log {
    category = "StorageWrite"
  }
  enabled_log {
    category = "StorageDelete"
  }
  enabled_metric {
    category = "Transaction"
  }
}

# The Key Vault's audit log (who read which secret when).
resource "azurerm_monitor_diagnostic_setting" "vault" {
  name                       = "vault-audit"
  target_resource_id         = azurerm_key_vault.hub.id
  log_analytics_workspace_id = azurerm_log_analytics_workspace.hub.id
  enabled_log {
    category = "AuditEvent"
  }
}
