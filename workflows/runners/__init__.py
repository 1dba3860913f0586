"""The runners system's workflows (seed 004); `catalog.py` lists them for `worker.py`.

Kept empty on purpose: see `workflows/provisioning/__init__.py`."""
