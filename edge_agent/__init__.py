"""The station agent: acquisition -> scoring -> durable buffer -> uplink."""

__version__ = "0.1.0"
