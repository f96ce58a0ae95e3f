"""Evaluation of plumecast against field measurements (Project Prairie Grass)."""

from __future__ import annotations

from plumecast.validation.metrics import Scores, scores

__all__ = ["Scores", "scores"]
