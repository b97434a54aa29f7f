"""Regulatory compliance: EPA 40 CFR 98 Subpart W emissions and PHMSA 49 CFR 191/192 reporting.

Rules are dated data files under `rules/` (each constant with its citation and the reporting
years or dates it is in force); the calculations here are plain Python (no Spark, no
database); `serving_adapter` turns the serving database into calculator inputs.
See docs/compliance.md.
"""
