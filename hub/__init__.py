"""The cloud hub: ingest, lakehouse, serving database, workflows, compliance, portal."""

__version__ = "0.1.0"
