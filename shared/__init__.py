"""Contracts shared by the edge agent, the hub, the simulator and the models.

This package imports nothing else of ours: it is the one place both sides of
the wire agree on (schemas, batch format, topics, messages, settings loading).
"""
