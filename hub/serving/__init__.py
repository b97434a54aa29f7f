"""Serving tables mirrored from gold for the portal, and the code that upserts them."""
