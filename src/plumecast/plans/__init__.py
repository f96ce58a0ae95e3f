"""Response plans: named sets of countermeasures, evaluated per ensemble member.

See :mod:`plumecast.plans.config` (the ``plans:`` scenario key) and
:mod:`plumecast.plans.evaluate` (a plan applied to one member's receptor exposure).
Nothing heavy is imported here: :mod:`plumecast.scenario` imports the config module.
"""
