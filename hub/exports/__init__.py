"""Exports: readings (silver, via delta-rs), hourly/daily aggregates, alert episodes and work
orders for a scope and time range, streamed as CSV or Parquet (row groups), never whole in
memory. The portal's export views call `service.open_export`."""
