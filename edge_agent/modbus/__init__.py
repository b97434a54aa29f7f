"""Modbus acquisition: panels polled per register map (shared.register_map), TCP or RTU.

Layers import downward only: `link` (transport + bounded retries) <- `panel`
(register map -> reading) <- `source` (threads, schedule, the agent's plugin).
"""
