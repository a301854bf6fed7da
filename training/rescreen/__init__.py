"""Catalogue re-screening on Spark: the service's model and policy over a whole catalogue.

`python -m training rescreen ...` or `spark-submit training/rescreen/__main__.py ...`; see
docs/batch.md "Re-screening a catalogue". `layout` (columns), `worker` (executors), `job` (driver),
`report` (shadow-mode report), `cli` (arguments). Only `job` and `cli` import PySpark.
"""
