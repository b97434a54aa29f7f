"""Maintenance: work orders on compressors, their attachments, episode reviews, CMMS import.

Work orders are the models' labels (`labels.py`); reviews of alert episodes feed the
alert-rule tuning report (`tuning.py`). The portal's routers call these services.
"""
