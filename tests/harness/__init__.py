"""The fault harness: every job type users start, failed, cancelled and killed at each of its steps,
with the world compared before and after.

Design (docs/testing.md, "The fault harness", says the same for readers of the site):

- A *scenario* per job type (scenarios/, a module per system) starts it through the REST API with names of its own,
  after preparing its prerequisites (a deployed service to undeploy, an onboarded customer to
  offboard, …). test_catalogue.py fails when a workflow type in worker.WORKFLOWS has neither a
  scenario nor a reasoned entry in EXCLUDED (internal or child jobs).
- Its *steps* are the activities a successful run and its child jobs schedule, in history order,
  each as (workflow type, activity type, occurrence). Pytest needs them at collection time, so they
  live in steps.json (catalogue.py), written by `make harness-steps` (record_steps.py) from real
  runs, with the undo activities a failure after the last step runs and the successful run's
  footprint. test_catalogue.py runs each scenario and fails with "run make harness-steps" when its
  steps or footprint differ: a new step is never silently left out.
- *Faults* come from a worker interceptor (fault_injector.py) in the harness's own worker process
  (worker_main.py builds the platform's worker with worker.build_worker and adds it); no function
  of ours is patched. fail_before / fail_after: the step fails for good (non-retryable) before its
  work, or after it (its side effect exists). cancel: the step is held, heartbeating, until the
  harness cancels the job through POST /jobs/{id}/cancel; then it does its work and reports the
  cancel. kill: the step is held, the harness SIGKILLs the worker and starts a fresh one without
  faults; the job must complete.
- *Snapshots* (snapshot.py) of the harness's own local cloud (every collection of every emulated
  API, secret versions, git branches by tree), the platform's resource tables, the files under the
  platform's hosting directories (workspaces, uploads) and the databases and users on the shared
  MariaDB/PostgreSQL that carry the case's names, before and after each case
  (cases.py). Completed: the change must equal the catalogue's footprint (exactly one of
  everything). Failed or cancelled: nothing left behind; a "create" job removed nothing either.
  Any job of the tree that failed or was cancelled: no local-cloud resource carries its job id (the
  ownership mark). Completed without a failed child job: exactly the footprint less that child
  type's share (the catalogue's `branches`, measured by make harness-steps).
- *Budget*: `make test` runs every step of every job type once, under one fault chosen by rotation
  from a seed printed at the end (HARNESS_SEED replays it); `make harness` runs the whole matrix and
  test_teeth.py: each undo in turn made a no-op (that still reports ok) must make a case fail.
- Leaks found and not fixed yet are strict xfails in known_leaks.py, one visible list.
"""
