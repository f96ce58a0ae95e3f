"""Particle state as a structure of arrays.

Layout (bytes per particle, the same on every backend):

======================  =========  =====  ==========================================
array                   dtype      bytes  meaning
======================  =========  =====  ==========================================
``lon``                 float64    8      longitude [deg east], in [-180, 180)
``lat``                 float64    8      latitude [deg north]
``z``                   float32    4      height above ground [m]
``mass``                float64    8      mass carried now [kg]
``birth_step``          int32      4      index of the time step at which it is released
``status``              int8       1      0 not yet released / alive, 2 left the domain
======================  =========  =====  ==========================================

33 bytes per particle in all (the budget is 64). Positions stay float64 so that the
NumPy oracle and the compiled kernels agree to 1e-6 degrees after days of transport;
mass is float64 so that the mass balance (released = airborne + decayed + deposited + exited)
closes to 1e-9. A particle's index is its identity: the random stream of particle
``i`` at step ``k`` depends only on ``(seed, i, k)``, so results do not depend on how a
run is split into kernel calls or on the number of threads.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

STATUS_ACTIVE = 0
STATUS_EXITED = 2

BYTES_PER_PARTICLE = 8 + 8 + 4 + 8 + 4 + 1


@dataclass
class Particles:
    """Particle state (struct of arrays). See the module docstring for the layout."""

    lon: NDArray[np.float64]
    lat: NDArray[np.float64]
    z: NDArray[np.float32]
    mass: NDArray[np.float64]
    birth_step: NDArray[np.int32]
    status: NDArray[np.int8]

    @classmethod
    def empty(cls, n: int) -> Particles:
        """Allocate ``n`` particles (all fields zero)."""
        return cls(
            lon=np.zeros(n, np.float64),
            lat=np.zeros(n, np.float64),
            z=np.zeros(n, np.float32),
            mass=np.zeros(n, np.float64),
            birth_step=np.zeros(n, np.int32),
            status=np.zeros(n, np.int8),
        )

    def __len__(self) -> int:
        return int(self.lon.size)

    @property
    def nbytes(self) -> int:
        """Memory held by the particle state. [bytes]"""
        return sum(a.nbytes for a in (self.lon, self.lat, self.z, self.mass, self.birth_step, self.status))

    def copy(self) -> Particles:
        return Particles(self.lon.copy(), self.lat.copy(), self.z.copy(), self.mass.copy(), self.birth_step.copy(),
                         self.status.copy())

    def released(self, step: int) -> NDArray[np.bool_]:
        """Mask of particles released before time step ``step`` starts... or at it."""
        return self.birth_step <= step

    def airborne(self, step: int) -> NDArray[np.bool_]:
        """Mask of particles released by ``step`` and still inside the domain."""
        return (self.birth_step <= step) & (self.status == STATUS_ACTIVE)
