# Names and addresses only: no secret is ever an output.

output "resource_group" {
  description = "The deployment's resource group."
  value       = azurerm_resource_group.hub.name
}

output "registry_login_server" {
  description = "Push altaviz-hub:<tag> and altaviz-pipeline:<tag> here."
  value       = azurerm_container_registry.hub.login_server
}

output "key_vault_uri" {
  description = "Key Vault holding every secret (docs/RUNBOOK.md lists them)."
  value       = azurerm_key_vault.hub.vault_uri
}

output "portal_fqdn" {
  description = "The portal's ingress host name (point portal_hostname's DNS record here)."
  value       = azurerm_container_app.portal.ingress[0].fqdn
}

output "lake_root" {
  description = "ALTAVIZ_HUB_LAKE_ROOT for the pipeline (abfss:// on the HNS storage account)."
  value       = local.lake_root
}

output "postgres_fqdn" {
  description = "Private host name of the serving database."
  value       = azurerm_postgresql_flexible_server.serving.fqdn
}
