"""Models at the hub: the registry's champion models scored on the lakehouse's data.

Pure functions over pandas frames (`anomaly`, `hourly`) and thin Spark wrappers
(`spark`) that the lakehouse pipeline calls with the SparkSession and DataFrames it
owns; results are rows of gold `model_scores` (hub.lakehouse.tables), each carrying the
model id and version. `champions` loads what the registry holds and says plainly when
a model is not registered or refused; `service` writes scores and model statuses to
the serving database. docs/lakehouse.md, "Model scoring".
"""
