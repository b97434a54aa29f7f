resource "azurerm_container_registry" "hub" {
  name                          = "cr${local.compact}"
  location                      = azurerm_resource_group.hub.location
  resource_group_name           = azurerm_resource_group.hub.name
  sku                           = "Premium" # private endpoint, retention, zone redundancy
  admin_enabled                 = false
  public_network_access_enabled = length(var.allowed_admin_cidrs) > 0
  zone_redundancy_enabled       = true
  data_endpoint_enabled         = true
  quarantine_policy_enabled     = false # checkov:skip=CKV_AZURE_166:images are built and pushed by our own CI, scanned before push (docs/RUNBOOK.md); quarantine would block the pipeline without a scanner wired to release them
  retention_policy_in_days      = 14
  trust_policy_enabled          = false # checkov:skip=CKV_AZURE_164:content trust (Notary v1) is deprecated by Azure; images are pinned by tag per release
  network_rule_set {
    default_action = "Deny"
    dynamic "ip_rule" {
      for_each = var.allowed_admin_cidrs
      content {
        action   = "Allow"
        ip_range = ip_rule.value
      }
    }
  }
  dynamic "georeplications" {
    for_each = var.geo_redundant ? ["northcentralus"] : []
    content {
      location                = georeplications.value
      zone_redundancy_enabled = true
      tags                    = local.tags
    }
  }
  tags = local.tags
}

resource "azurerm_private_endpoint" "registry" {
  name                = "pe-${local.name}-registry"
  location            = azurerm_resource_group.hub.location
  resource_group_name = azurerm_resource_group.hub.name
  subnet_id           = azurerm_subnet.endpoints.id
  private_service_connection {
    name                           = "registry"
    private_connection_resource_id = azurerm_container_registry.hub.id
    subresource_names              = ["registry"]
    is_manual_connection           = false
  }
  private_dns_zone_group {
    name                 = "registry"
    private_dns_zone_ids = [azurerm_private_dns_zone.zones["privatelink.azurecr.io"].id]
  }
  tags = local.tags
}

resource "azurerm_role_assignment" "apps_pull" {
  scope                = azurerm_container_registry.hub.id
  role_definition_name = "AcrPull"
  principal_id         = azurerm_user_assigned_identity.apps.principal_id
}
