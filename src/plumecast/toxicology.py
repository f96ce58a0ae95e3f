"""Toxicology kernels: AEGL time scaling, toxic load, probit lethality.

Small pure functions on bare NumPy arrays. Units are those named in each
argument; converting from the SI concentrations used inside plumecast to the
units a probit set was published in is the caller's job (see
:class:`plumecast.agents.ProbitSet`).

References
----------
.. [1] National Research Council (2001). *Standing Operating Procedures for
   Developing Acute Exposure Guideline Levels for Hazardous Chemicals*.
   National Academy Press, Washington DC. doi:10.17226/10122
   (section 2.7, time scaling ``C^n t = k``).
.. [2] Committee for the Prevention of Disasters (1999). *Guidelines for
   quantitative risk assessment* ("Purple Book"), CPR 18E, section 5.2.1:
   ``Pr = a + b ln(sum C_i^n dt_i)``, ``P = Phi(Pr - 5)``.
.. [3] Withers, R.M.J. & Lees, F.P. (1985). The assessment of major hazards:
   the lethal toxicity of chlorine, Part 2. *J. Hazardous Materials* 12,
   283-302. doi:10.1016/0304-3894(85)85001-4
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import ndtr

AEGL_LEVELS: tuple[int, ...] = (1, 2, 3)
"""AEGL tiers: 1 discomfort, 2 disabling, 3 life-threatening or death."""

AEGL_DURATIONS_S: dict[str, float] = {
    "10min": 600.0,
    "30min": 1800.0,
    "60min": 3600.0,
    "4h": 14400.0,
    "8h": 28800.0,
}
"""The five exposure durations for which AEGLs are tabulated. [s]"""

AEGL_INTERPOLATION_METHOD = (
    "AEGL between tabulated durations: log-log linear interpolation, i.e. the "
    "time-scaling relation C^n t = k (NRC 2001, Standing Operating Procedures for "
    "Developing AEGLs, sec. 2.7) fitted through the two bracketing tabulated points; "
    "durations under 10 min take the 10-min value and durations over 8 h the 8-h "
    "value (no extrapolation). Missing bracketing value -> no AEGL (never zero)."
)


def aegl_loglog_interpolate(
    table_durations_s: ArrayLike, table_values: ArrayLike, duration_s: ArrayLike
) -> NDArray[np.float64]:
    """AEGL at arbitrary exposure durations from the tabulated ones.

    Between two tabulated points ``(t1, C1)`` and ``(t2, C2)`` the AEGL follows
    ``C^n t = k`` with ``n = ln(t2/t1) / ln(C1/C2)`` fitted through both points,
    which is linear interpolation of ``ln C`` in ``ln t`` ([1]_, sec. 2.7). Shorter
    than the first tabulated duration: the first value; longer than the last:
    the last value (the AEGL program's own tables stop at 10 min and 8 h and
    this function does not extrapolate beyond them).

    Parameters
    ----------
    table_durations_s : array_like, shape (m,)
        Tabulated exposure durations, strictly increasing. [s]
    table_values : array_like, shape (m,)
        AEGL at those durations; NaN where missing. [any concentration unit]
    duration_s : array_like
        Exposure durations at which the AEGL is wanted. [s]

    Returns
    -------
    numpy.ndarray
        AEGL at ``duration_s`` in the unit of ``table_values``; NaN where a
        bracketing tabulated value is missing or where ``duration_s`` is NaN.

    Examples
    --------
    Chlorine AEGL-3 is 28 ppm at 30 min and 20 ppm at 60 min; at 45 min:

    >>> from plumecast.toxicology import aegl_loglog_interpolate
    >>> t = [600, 1800, 3600, 14400, 28800]
    >>> c = [50, 28, 20, 10, 7.1]
    >>> round(float(aegl_loglog_interpolate(t, c, 2700.0)), 3)
    22.997
    """
    xp = np.log(np.asarray(table_durations_s, dtype=float))
    fp = np.log(np.asarray(table_values, dtype=float))
    with np.errstate(divide="ignore", invalid="ignore"):
        logt = np.log(np.asarray(duration_s, dtype=float))
    # np.interp holds the end values outside [xp[0], xp[-1]]: the clamping rule.
    out = np.exp(np.interp(logt, xp, fp))
    missing = np.isnan(fp)
    if missing.any():
        # A segment with a missing end is NaN already; make exact hits on a
        # present node return that node's value whatever its neighbours are.
        for i in np.flatnonzero(~missing):
            out = np.where(logt == xp[i], np.exp(fp[i]), out)
        if not missing[0]:
            out = np.where(logt < xp[0], np.exp(fp[0]), out)
        if not missing[-1]:
            out = np.where(logt > xp[-1], np.exp(fp[-1]), out)
    return np.asarray(out, dtype=float)


def toxic_load(
    concentration: ArrayLike, dt: ArrayLike, n: float, axis: int = 0
) -> NDArray[np.float64]:
    """Toxic load ``TL = sum_i C_i^n dt_i`` of a piecewise-constant exposure.

    Parameters
    ----------
    concentration : array_like
        Interval-mean concentrations, in the unit the probit set was published
        in (e.g. mg m-3 or ppm). Must be >= 0.
    dt : array_like
        Interval lengths along ``axis``, in the probit set's time unit (e.g. min).
    n : float
        Toxic-load exponent of the probit set. [-]
    axis : int
        Time axis of ``concentration``.

    Returns
    -------
    numpy.ndarray
        Toxic load in ``[conc]^n [time]``. Zero exposure gives exactly 0.

    References
    ----------
    CPR 18E (1999), sec. 5.2.1 ([2]_).
    """
    c = np.moveaxis(np.asarray(concentration, dtype=float), axis, 0)
    d = np.asarray(dt, dtype=float)
    return np.asarray(np.tensordot(d, power_exponent(c, n), axes=(0, 0)), dtype=float)


def power_exponent(c: NDArray[np.float64], n: float) -> NDArray[np.float64]:
    """``c ** n`` with fast paths for the common exponents 1 and 2. [conc^n]"""
    if n == 1.0:
        return c
    if n == 2.0:
        return c * c
    # pow(0, n) takes a slow special-case path in libm; zeros are common here
    # (before the gas arrives), so only positive values go through pow.
    out = np.zeros_like(c)
    np.power(c, n, out=out, where=c > 0)
    return out


def probit_from_load(load: ArrayLike, a: float, b: float) -> NDArray[np.float64]:
    """Probit ``Pr = a + b ln(TL)``; ``-inf`` (not NaN) where the load is 0.

    Parameters
    ----------
    load : array_like
        Toxic load in the units the constants were published in.
    a, b : float
        Probit constants. [-]

    Returns
    -------
    numpy.ndarray
        Probit value. [-]

    References
    ----------
    CPR 18E (1999), eq. 5.3 ([2]_).
    """
    tl = np.asarray(load, dtype=float)
    logtl = np.full(tl.shape, -np.inf)
    np.log(tl, out=logtl, where=tl > 0)
    with np.errstate(invalid="ignore"):
        pr = a + b * logtl
    return np.asarray(pr, dtype=float)


def lethal_fraction_from_probit(probit: ArrayLike) -> NDArray[np.float64]:
    """Fraction of an exposed population killed: ``P = Phi(Pr - 5)``. [-]

    ``Phi`` is the standard normal cumulative distribution (CPR 18E, sec. 5.2.1);
    ``Pr = -inf`` gives exactly 0.
    """
    return np.asarray(ndtr(np.asarray(probit, dtype=float) - 5.0), dtype=float)


def constant_exposure_concentration(
    probit: float, duration: float, a: float, b: float, n: float
) -> float:
    """Constant concentration that gives ``probit`` after ``duration``.

    Inverse of ``Pr = a + b ln(C^n t)``: ``C = (exp((Pr - a)/b) / t)^(1/n)``.
    With ``probit = 5`` this is the LC50 for that duration.

    Parameters
    ----------
    probit : float
        Target probit (5 for 50 % lethality). [-]
    duration : float
        Exposure duration in the probit set's time unit.
    a, b, n : float
        Probit constants. [-]

    Returns
    -------
    float
        Concentration in the probit set's concentration unit.
    """
    return float((np.exp((probit - a) / b) / duration) ** (1.0 / n))
