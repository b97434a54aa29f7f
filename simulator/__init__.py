"""Compressor fleet simulator: readings with ground truth, live streams, Modbus panels."""
