"""Spark + Delta Lake: bronze, silver, gold. Pure transforms apart from I/O."""
