"""The provisioning system's workflows (seed 000); `catalog.py` lists them for `worker.py`.

Kept empty on purpose: the workflow sandbox imports a workflow's package again for every run, so a
package that imported its every workflow would make each run load them all."""
