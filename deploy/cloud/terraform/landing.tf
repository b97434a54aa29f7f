# The landing zone and quarantine: ingest writes batches (fsync + rename), the pipeline reads
# them. Both apps mount one NFS Azure Files share (NFS: no account key, VNet-only access).

resource "azurerm_storage_account" "landing" {
  # checkov:skip=CKV2_AZURE_38:a FileStorage account has no blob service; share soft delete is on (share_properties.retention_policy, 7 days), which this graph check cannot see
  # checkov:skip=CKV_AZURE_206:premium FileStorage (NFS) offers LRS and ZRS only; ZRS is used
  # checkov:skip=CKV2_AZURE_1:Microsoft-managed keys plus infrastructure encryption; landing files are transient (the pipeline moves them into the lake within minutes)
  name                              = "stl${local.compact}"
  location                          = azurerm_resource_group.hub.location
  resource_group_name               = azurerm_resource_group.hub.name
  account_kind                      = "FileStorage"
  account_tier                      = "Premium"
  account_replication_type          = "ZRS"
  https_traffic_only_enabled        = false # checkov:skip=CKV_AZURE_3:NFS 4.1 shares do not support the secure-transfer flag; access is VNet-only (network_rules below)
  min_tls_version                   = "TLS1_2"
  public_network_access_enabled     = false
  allow_nested_items_to_be_public   = false
  shared_access_key_enabled         = false
  local_user_enabled                = false
  infrastructure_encryption_enabled = true
  network_rules {
    default_action             = "Deny"
    bypass                     = ["AzureServices"]
    virtual_network_subnet_ids = [azurerm_subnet.apps.id]
  }
  share_properties {
    retention_policy {
      days = 7
    }
  }
  tags = local.tags
}

resource "azurerm_private_dns_zone" "file" {
  name                = "privatelink.file.core.windows.net"
  resource_group_name = azurerm_resource_group.hub.name
  tags                = local.tags
}

resource "azurerm_private_dns_zone_virtual_network_link" "file" {
  name                  = "link-file"
  resource_group_name   = azurerm_resource_group.hub.name
  private_dns_zone_name = azurerm_private_dns_zone.file.name
  virtual_network_id    = azurerm_virtual_network.hub.id
  tags                  = local.tags
}

resource "azurerm_private_endpoint" "landing" {
  name                = "pe-${local.name}-landing"
  location            = azurerm_resource_group.hub.location
  resource_group_name = azurerm_resource_group.hub.name
  subnet_id           = azurerm_subnet.endpoints.id
  private_service_connection {
    name                           = "landing"
    private_connection_resource_id = azurerm_storage_account.landing.id
    subresource_names              = ["file"]
    is_manual_connection           = false
  }
  private_dns_zone_group {
    name                 = "landing"
    private_dns_zone_ids = [azurerm_private_dns_zone.file.id]
  }
  tags = local.tags
}

resource "azurerm_storage_share" "landing" {
  name               = "landing"
  storage_account_id = azurerm_storage_account.landing.id
  enabled_protocol   = "NFS"
  quota              = 1024
}

resource "azurerm_container_app_environment_storage" "landing" {
  name                         = "landing"
  container_app_environment_id = azurerm_container_app_environment.hub.id
  nfs_server_url               = "${azurerm_storage_account.landing.name}.file.core.windows.net"
  share_name                   = "/${azurerm_storage_account.landing.name}/${azurerm_storage_share.landing.name}"
  access_mode                  = "ReadWrite"
}
