"""Ensembles of a scenario and the plan comparison on dask.distributed.

:mod:`plumecast.ensemble.config` (the ``ensemble:`` scenario key),
:mod:`plumecast.ensemble.members` (member seeds and perturbations),
:mod:`plumecast.ensemble.compare` (member tasks, reductions),
:mod:`plumecast.ensemble.dask_run` (running the members on Dask),
:mod:`plumecast.ensemble.plan_checks` (checks of the plans against the run),
:mod:`plumecast.ensemble.summary` (statistics over members, tables) and
:mod:`plumecast.ensemble.summary_files` (output files).
Nothing heavy is imported here: :mod:`plumecast.scenario` imports the config module.
"""
