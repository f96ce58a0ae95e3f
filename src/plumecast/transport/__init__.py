"""Transport: Lagrangian particles on the sphere and local-scale Gaussian models."""

from __future__ import annotations

from plumecast.transport.lagrangian import trajectories
from plumecast.transport.particles import Particles

__all__ = ["Particles", "trajectories"]
