# The Spark engine the pipeline runs on at scale (var.spark_engine). The pipeline code is the
# same on every engine: only spark.master / the cluster and ALTAVIZ_HUB_LAKE_ROOT change.

resource "azurerm_databricks_workspace" "spark" {
  # checkov:skip=CKV2_AZURE_48:the DBFS root holds no Altaviz data (the Delta tables live in the lake account); infrastructure encryption is on
  count                                 = var.spark_engine == "databricks" ? 1 : 0
  name                                  = "dbw-${local.name}"
  location                              = azurerm_resource_group.hub.location
  resource_group_name                   = azurerm_resource_group.hub.name
  sku                                   = "premium"
  managed_resource_group_name           = "rg-${local.name}-databricks"
  public_network_access_enabled         = true # checkov:skip=CKV_AZURE_158:the workspace UI and REST API are reached by operators and CI; clusters run without public IPs (no_public_ip below)
  infrastructure_encryption_enabled     = true
  custom_parameters {
    no_public_ip = true
  }
  tags = local.tags
}

resource "azurerm_synapse_workspace" "spark" {
  count                                = var.spark_engine == "synapse" ? 1 : 0
  name                                 = "syn-${local.compact}"
  location                             = azurerm_resource_group.hub.location
  resource_group_name                  = azurerm_resource_group.hub.name
  storage_data_lake_gen2_filesystem_id = "https://${azurerm_storage_account.lake.name}.dfs.core.windows.net/lake"
  managed_virtual_network_enabled      = true
  public_network_access_enabled        = false
  data_exfiltration_protection_enabled = true
  azuread_authentication_only          = true
  identity {
    type = "SystemAssigned"
  }
  tags = local.tags
}

resource "azurerm_synapse_workspace_extended_auditing_policy" "spark" {
  count                  = var.spark_engine == "synapse" ? 1 : 0
  synapse_workspace_id   = azurerm_synapse_workspace.spark[0].id
  log_monitoring_enabled = true
  retention_in_days      = 90
}

resource "azurerm_synapse_spark_pool" "pipeline" {
  count                = var.spark_engine == "synapse" ? 1 : 0
  name                 = "altaviz"
  synapse_workspace_id = azurerm_synapse_workspace.spark[0].id
  node_size_family     = "MemoryOptimized"
  node_size            = "Small"
  spark_version        = "3.5"
  auto_scale {
    min_node_count = 3
    max_node_count = 10
  }
  auto_pause {
    delay_in_minutes = 15
  }
  tags = local.tags
}
