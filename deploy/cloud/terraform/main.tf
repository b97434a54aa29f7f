# The Altaviz hub on Azure: network, serving database, lake storage, Key Vault, registry,
# monitoring, the Container Apps environment with one app per hub service, the Spark engine
# and the stations' MQTT broker. docs/RUNBOOK.md walks through a deployment.

data "azurerm_client_config" "current" {}

resource "random_string" "suffix" {
  length  = 5
  special = false
  upper   = false
}

locals {
  name      = "${var.name_prefix}-${var.environment}"
  compact   = "${var.name_prefix}${var.environment}${random_string.suffix.result}"
  lake_root = "abfss://lake@${azurerm_storage_account.lake.name}.dfs.core.windows.net/altaviz"
  tags = merge(var.tags, {
    application = "altaviz-hub"
    environment = var.environment
  })
}

resource "azurerm_resource_group" "hub" {
  name     = "rg-${local.name}"
  location = var.location
  tags     = local.tags
}

resource "azurerm_user_assigned_identity" "apps" {
  name                = "id-${local.name}-apps"
  location            = azurerm_resource_group.hub.location
  resource_group_name = azurerm_resource_group.hub.name
  tags                = local.tags
}
