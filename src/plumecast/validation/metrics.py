"""Model-evaluation statistics for paired observed / predicted concentrations.

Definitions of Chang, J.C. & Hanna, S.R. (2004) Air quality model performance
evaluation. Meteorol. Atmos. Phys. 87, 167–196, §3 (eqs. 1–6), with their sign
convention: FB > 0 and MG > 1 mean the model *under*-predicts.

Acceptance criteria for a "good" model (Chang & Hanna 2004, §5.2): FAC2 ≥ 0.5,
|FB| ≤ 0.3, NMSE ≤ 1.5 (roughly 0.7 ≤ MG ≤ 1.3 and VG ≤ 1.6 for research-grade
field data).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from numpy.typing import ArrayLike


@dataclass(frozen=True)
class Scores:
    """Chang & Hanna (2004) statistics of one set of pairs."""

    n: int
    fac2: float
    fb: float
    nmse: float
    mg: float
    vg: float

    def passes_chang_hanna(self) -> bool:
        """True when FAC2 ≥ 0.5, |FB| ≤ 0.3 and NMSE ≤ 1.5 (Chang & Hanna 2004)."""
        return self.fac2 >= 0.5 and abs(self.fb) <= 0.3 and self.nmse <= 1.5

    def as_dict(self) -> dict[str, float]:
        """Plain dict (for tables and JSON)."""
        return {k: float(v) for k, v in asdict(self).items()}


def fac2(observed: ArrayLike, predicted: ArrayLike) -> float:
    """Fraction of pairs with ``0.5 ≤ Cp/Co ≤ 2`` (Chang & Hanna 2004 eq. 5). [-]"""
    co = np.asarray(observed, dtype=float)
    cp = np.asarray(predicted, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = cp / co
    return float(np.mean((ratio >= 0.5) & (ratio <= 2.0)))


def fractional_bias(observed: ArrayLike, predicted: ArrayLike) -> float:
    """``FB = (mean Co − mean Cp) / (0.5 (mean Co + mean Cp))`` (eq. 1). [-]"""
    co = np.mean(np.asarray(observed, dtype=float))
    cp = np.mean(np.asarray(predicted, dtype=float))
    return float((co - cp) / (0.5 * (co + cp)))


def nmse(observed: ArrayLike, predicted: ArrayLike) -> float:
    """``NMSE = mean((Co − Cp)²) / (mean Co · mean Cp)`` (eq. 3). [-]"""
    co = np.asarray(observed, dtype=float)
    cp = np.asarray(predicted, dtype=float)
    return float(np.mean((co - cp) ** 2) / (np.mean(co) * np.mean(cp)))


def geometric_mean_bias(observed: ArrayLike, predicted: ArrayLike) -> float:
    """``MG = exp(mean(ln Co) − mean(ln Cp))`` (eq. 2); positive pairs only. [-]"""
    co, cp = _positive(observed, predicted)
    return float(np.exp(np.mean(np.log(co)) - np.mean(np.log(cp))))


def geometric_variance(observed: ArrayLike, predicted: ArrayLike) -> float:
    """``VG = exp(mean((ln Co − ln Cp)²))`` (eq. 4); positive pairs only. [-]"""
    co, cp = _positive(observed, predicted)
    return float(np.exp(np.mean((np.log(co) - np.log(cp)) ** 2)))


def _positive(observed: ArrayLike, predicted: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    co = np.asarray(observed, dtype=float)
    cp = np.asarray(predicted, dtype=float)
    keep = (co > 0) & (cp > 0)
    return co[keep], cp[keep]


def scores(observed: ArrayLike, predicted: ArrayLike) -> Scores:
    """All five statistics for paired arrays of observed and predicted values.

    Parameters
    ----------
    observed, predicted : array_like
        Paired concentrations in the same unit (any). Pairs with a missing
        (NaN) value are dropped.
    """
    co = np.asarray(observed, dtype=float).ravel()
    cp = np.asarray(predicted, dtype=float).ravel()
    if co.shape != cp.shape:
        raise ValueError(f"observed and predicted differ in length: {co.size} vs {cp.size}")
    keep = np.isfinite(co) & np.isfinite(cp)
    co, cp = co[keep], cp[keep]
    if co.size == 0:
        raise ValueError("no finite observed/predicted pairs to score")
    return Scores(
        n=int(co.size),
        fac2=fac2(co, cp),
        fb=fractional_bias(co, cp),
        nmse=nmse(co, cp),
        mg=geometric_mean_bias(co, cp),
        vg=geometric_variance(co, cp),
    )
