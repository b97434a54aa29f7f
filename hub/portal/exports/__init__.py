"""Downloads of readings, aggregates, episodes and work orders (hub.exports), plan-gated."""
