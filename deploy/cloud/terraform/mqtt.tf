# The stations' MQTT broker (var.mqtt_broker).
#  - mosquitto: a container app with TCP ingress on 8883 (TLS), per-station passwords and the
#    ACL written by `altaviz-hub stations provision` onto its share.
#  - event_grid: the Event Grid namespace MQTT broker (clients authenticate with X.509
#    certificates; topic spaces and permission bindings give each station its own topics).

resource "azurerm_container_app" "mosquitto" {
  count                        = var.mqtt_broker == "mosquitto" ? 1 : 0
  name                         = "mosquitto"
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
  ingress {
    external_enabled = true
    target_port      = 8883
    exposed_port     = 8883
    transport        = "tcp"
    traffic_weight {
      latest_revision = true
      percentage      = 100
    }
  }
  template {
    min_replicas = 1
    max_replicas = 1 # one broker: stations' persistent sessions live in it
    container {
      name   = "mosquitto"
      image  = "${local.registry}/eclipse-mosquitto:2.0.20"
      cpu    = 0.5
      memory = "1Gi"
      liveness_probe {
        transport = "TCP"
        port      = 8883
      }
    }
  }
  depends_on = [azurerm_role_assignment.apps_pull]
  tags       = local.tags
}

resource "azurerm_eventgrid_namespace" "mqtt" {
  count                 = var.mqtt_broker == "event_grid" ? 1 : 0
  name                  = "evgns-${local.name}"
  location              = azurerm_resource_group.hub.location
  resource_group_name   = azurerm_resource_group.hub.name
  sku                   = "Standard"
  capacity              = 1
  public_network_access = "Enabled" # stations connect over the internet with client certificates
  topic_spaces_configuration {
    maximum_session_expiry_in_hours  = 8
    maximum_client_sessions_per_authentication_name = 1
    alternative_authentication_name_source = ["ClientCertificateSubject"]
  }
  identity {
    type = "SystemAssigned"
  }
  tags = local.tags
}
