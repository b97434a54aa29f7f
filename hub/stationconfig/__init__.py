"""Station configuration pushed from the hub: signed, versioned documents and what stations report.

The contract (document, signature, report) is `shared.station_config`; this package keeps
every version pushed and each station's last report in the serving database, signs with
the hub's bundle key, publishes retained on the station's config topic and listens on
config_status. The portal's page and `altaviz-hub stations config` use `service`.
"""
