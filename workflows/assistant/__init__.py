"""The ops assistant's workflows (seed 002); `catalog.py` lists them for `worker.py`.

Kept empty on purpose: see `workflows/provisioning/__init__.py`."""
