"""Work orders, attachments, CMMS import, episode reviews and alert tuning (hub.maintenance)."""
