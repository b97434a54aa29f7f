"""Station provisioning at the hub: identity, broker credentials, ACL and an edge config."""
