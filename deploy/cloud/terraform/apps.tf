# One Container App per hub service, all in one environment on the VNet. Secrets come from
# Key Vault by reference (the apps' managed identity reads them); none is in this state.

resource "azurerm_container_app_environment" "hub" {
  name                           = "cae-${local.name}"
  location                       = azurerm_resource_group.hub.location
  resource_group_name            = azurerm_resource_group.hub.name
  log_analytics_workspace_id     = azurerm_log_analytics_workspace.hub.id
  infrastructure_subnet_id       = azurerm_subnet.apps.id
  internal_load_balancer_enabled = false
  zone_redundancy_enabled        = var.environment == "prod"
  workload_profile {
    name                  = "Consumption"
    workload_profile_type = "Consumption"
  }
  tags = local.tags
}


locals {
  registry = azurerm_container_registry.hub.login_server
  vault    = azurerm_key_vault.hub.vault_uri
  mqtt_host = var.mqtt_broker == "mosquitto" ? "mosquitto" : "${azurerm_eventgrid_namespace.mqtt[0].name}.${var.location}-1.ts.eventgrid.azure.net"
  common_env = {
    ALTAVIZ_HUB_DEVELOPMENT               = "false"
    ALTAVIZ_HUB_LAKE_ROOT                 = local.lake_root
    ALTAVIZ_HUB_PIPELINE__AUTO_MIGRATE    = "false"
    ALTAVIZ_HUB_MQTT__HOST                = local.mqtt_host
    ALTAVIZ_HUB_MQTT__USERNAME            = "hub"
    ALTAVIZ_HUB_OBSERVABILITY__HOST       = "0.0.0.0"
    ALTAVIZ_HUB_OBSERVABILITY__TRACES     = "azure_monitor"
    ALTAVIZ_HUB_PORTAL__BASE_URL          = "https://${var.portal_hostname}"
    AZURE_CLIENT_ID                       = azurerm_user_assigned_identity.apps.client_id
  }
  # Environment variable -> Key Vault secret name.
  common_secrets = {
    ALTAVIZ_HUB_DATABASE_URL                        = "database-url"
    ALTAVIZ_HUB_MQTT__PASSWORD                      = "mqtt-hub-password"
    ALTAVIZ_HUB_PORTAL__SECRET_KEY                  = "portal-secret-key"
    ALTAVIZ_HUB_OBSERVABILITY__AZURE_CONNECTION_STRING = "appinsights-connection-string"
  }
  services = {
    ingest = {
      image = "altaviz-hub", args = ["ingest", "--json-logs"], port = 9101
      cpu = 0.5, memory = "1Gi", min = var.ingest_replicas, max = var.ingest_replicas
    }
    pipeline = {
      image = "altaviz-pipeline", args = ["pipeline", "--json-logs"], port = 9102
      cpu = 2.0, memory = "4Gi", min = var.spark_engine == "container" ? 1 : 0, max = 1
    }
    workflows = {
      image = "altaviz-hub", args = var.workflows_args, port = 9103
      cpu = 0.5, memory = "1Gi", min = 1, max = 1
    }
    bundles = {
      image = "altaviz-hub", args = ["serve-bundles"], port = 9104
      cpu = 0.25, memory = "0.5Gi", min = 1, max = 2
    }
  }
}

resource "azurerm_container_app" "service" {
  for_each                     = local.services
  name                         = "ca-${local.name}-${each.key}"
  container_app_environment_id = azurerm_container_app_environment.hub.id
  resource_group_name          = azurerm_resource_group.hub.name
  revision_mode                = "Single"
  workload_profile_name        = "Consumption"
  identity {
    type         = "UserAssigned"
    identity_ids = [azurerm_user_assigned_identity.apps.id]
  }
  registry {
    server   = local.registry
    identity = azurerm_user_assigned_identity.apps.id
  }
  dynamic "secret" {
    for_each = local.common_secrets
    content {
      name                = secret.value
      key_vault_secret_id = "${local.vault}secrets/${secret.value}"
      identity            = azurerm_user_assigned_identity.apps.id
    }
  }
  template {
    min_replicas = each.value.min
    max_replicas = each.value.max
    volume {
      name         = "landing"
      storage_name = azurerm_container_app_environment_storage.landing.name
      storage_type = "NfsAzureFile"
    }
    container {
      name    = each.key
      image   = "${local.registry}/${each.value.image}:${var.image_tag}"
      command = each.key == "bundles" ? ["altaviz-models"] : null
      args    = each.value.args
      cpu     = each.value.cpu
      memory  = each.value.memory
      dynamic "env" {
        for_each = local.common_env
        content {
          name  = env.key
          value = env.value
        }
      }
      dynamic "env" {
        for_each = local.common_secrets
        content {
          name        = env.key
          secret_name = env.value
        }
      }
      volume_mounts {
        name = "landing"
        path = "/var/lib/altaviz"
      }
      liveness_probe {
        transport = "HTTP"
        port      = each.value.port
        path      = "/health"
      }
      readiness_probe {
        transport = "HTTP"
        port      = each.value.port
        path      = "/ready"
      }
    }
  }
  depends_on = [azurerm_role_assignment.apps_secrets, azurerm_role_assignment.apps_pull]
  tags       = local.tags
}

resource "azurerm_container_app" "portal" {
  name                         = "ca-${local.name}-portal"
  container_app_environment_id = azurerm_container_app_environment.hub.id
  resource_group_name          = azurerm_resource_group.hub.name
  revision_mode                = "Single"
  workload_profile_name        = "Consumption"
  identity {
    type         = "UserAssigned"
    identity_ids = [azurerm_user_assigned_identity.apps.id]
  }
  registry {
    server   = local.registry
    identity = azurerm_user_assigned_identity.apps.id
  }
  dynamic "secret" {
    for_each = local.common_secrets
    content {
      name                = secret.value
      key_vault_secret_id = "${local.vault}secrets/${secret.value}"
      identity            = azurerm_user_assigned_identity.apps.id
    }
  }
  ingress {
    external_enabled = true
    target_port      = 8000
    transport        = "http"
    allow_insecure_connections = false
    traffic_weight {
      latest_revision = true
      percentage      = 100
    }
  }
  template {
    min_replicas = var.portal_min_replicas
    max_replicas = var.portal_max_replicas
    http_scale_rule {
      name                = "http"
      concurrent_requests = "32"
    }
    container {
      name   = "portal"
      image  = "${local.registry}/altaviz-hub:${var.image_tag}"
      args   = ["portal", "--host", "0.0.0.0", "--port", "8000", "--workers", "2"]
      cpu    = 1.0
      memory = "2Gi"
      dynamic "env" {
        for_each = local.common_env
        content {
          name  = env.key
          value = env.value
        }
      }
      dynamic "env" {
        for_each = local.common_secrets
        content {
          name        = env.key
          secret_name = env.value
        }
      }
      liveness_probe {
        transport = "HTTP"
        port      = 8000
        path      = "/health"
      }
      readiness_probe {
        transport = "HTTP"
        port      = 8000
        path      = "/ready"
      }
    }
  }
  depends_on = [azurerm_role_assignment.apps_secrets, azurerm_role_assignment.apps_pull]
  tags       = local.tags
}

# Schema migrations run as a job before a new image takes traffic (docs/RUNBOOK.md, "Upgrade").
resource "azurerm_container_app_job" "migrate" {
  name                         = "caj-${local.name}-migrate"
  location                     = azurerm_resource_group.hub.location
  resource_group_name          = azurerm_resource_group.hub.name
  container_app_environment_id = azurerm_container_app_environment.hub.id
  replica_timeout_in_seconds   = 900
  workload_profile_name        = "Consumption"
  manual_trigger_config {
    parallelism              = 1
    replica_completion_count = 1
  }
  identity {
    type         = "UserAssigned"
    identity_ids = [azurerm_user_assigned_identity.apps.id]
  }
  registry {
    server   = local.registry
    identity = azurerm_user_assigned_identity.apps.id
  }
  secret {
    name                = "database-url"
    key_vault_secret_id = "${local.vault}secrets/database-url"
    identity            = azurerm_user_assigned_identity.apps.id
  }
  template {
    container {
      name   = "migrate"
      image  = "${local.registry}/altaviz-hub:${var.image_tag}"
      args   = ["db", "upgrade"]
      cpu    = 0.5
      memory = "1Gi"
      env {
        name        = "ALTAVIZ_HUB_DATABASE_URL"
        secret_name = "database-url"
      }
    }
  }
  depends_on = [azurerm_role_assignment.apps_secrets, azurerm_role_assignment.apps_pull]
  tags       = local.tags
}
