"""The near field: what happens in the first tens of kilometres of a release.

Everything here works on one release and one hour of weather at a time, apart from
the global particle transport (:mod:`plumecast.transport`); both feed the same
consequence stage (:mod:`plumecast.consequence`).

* :mod:`~plumecast.nearfield.source_models` — how fast the gas gets out: tank holes,
  pipes, two-phase flashing flow, evaporating puddles;
* :mod:`~plumecast.nearfield.stability` — Pasquill-Gifford classes, Obukhov length,
  the surface-layer wind profile;
* :mod:`~plumecast.nearfield.gaussian` — Gaussian plume and puff;
* :mod:`~plumecast.nearfield.dense_gas` — heavy-gas dispersion (Britter-McQuaid);
* :mod:`~plumecast.nearfield.zones` — threat zones, threat at a point, their outputs.
"""
