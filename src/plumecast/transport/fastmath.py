"""Branch-free polynomial versions of the transcendental functions of the numba kernel.

The llvmlite shipped with numba is not SVML-patched, so calls to libm are never
vectorised and each costs 3-17 ns. The functions here are plain arithmetic
(multiply-adds, one division, selects and integer bit operations) used by the
Box-Muller transform of :mod:`plumecast.transport.kernels_numba`, where they cut the
cost of a particle-step with diffusion by about 10 %. They are accurate to a few ulp
(the tests in ``tests/test_kernels_fast.py`` bound the errors over dense samples and
the edge cases). A polynomial ``atan2`` (Cephes) was measured too and was slower than
libm's on this hardware one call at a time, so the lookups keep ``math.atan2``/
``math.asin``; :func:`atan2` here serves loops that LLVM vectorises (the 3-D kernel's
write-back of its batch's lon/lat).

* :func:`log_unit` – logarithm of a positive normal double by exponent/mantissa split
  and the ``atanh`` series of fdlibm ``e_log.c`` (coefficients Lg1..Lg7).
* :func:`sincos_2pi` – ``cos(2 pi u)`` and ``sin(2 pi u)`` for ``u`` in [0, 1] by exact
  quadrant reduction of ``u`` and the Cephes ``sin``/``cos`` polynomials on
  [-pi/4, pi/4] (for Box-Muller).
* :func:`atan2` – by reduction to ``|t| <= tan(pi/8)`` (one division) and a polynomial
  fitted for plumecast (``tools/fit_atan.py``: relative error 6.7e-18 before the
  rounding of its arithmetic).
"""

from __future__ import annotations

import math

import numba
from llvmlite import ir
from numba import types
from numba.extending import intrinsic

_LN2_HI = 6.93147180369123816490e-01  # fdlibm split of ln 2
_LN2_LO = 1.90821492927058770002e-10
_SQRT2 = math.sqrt(2.0)
_TWO_PI = 2.0 * math.pi

# fdlibm e_log.c
_LG1 = 6.666666666666735130e-01
_LG2 = 3.999999999940941908e-01
_LG3 = 2.857142874366239149e-01
_LG4 = 2.222219843214978396e-01
_LG5 = 1.818357216161805012e-01
_LG6 = 1.531383769920937332e-01
_LG7 = 1.479819860511658591e-01

# Cephes sin.c / cos polynomials on [-pi/4, pi/4]
_S0 = 1.58962301576546568060e-10
_S1 = -2.50507477628578072866e-08
_S2 = 2.75573136213857245213e-06
_S3 = -1.98412698295895385996e-04
_S4 = 8.33333333332211858878e-03
_S5 = -1.66666666666666307295e-01
_C0 = -1.13585365213876817300e-11
_C1 = 2.08757008419747316778e-09
_C2 = -2.75573141792967388112e-07
_C3 = 2.48015872888517045348e-05
_C4 = -1.38888888888730564116e-03
_C5 = 4.16666666666665929218e-02

# atan(t) = t + t z P(z), z = t^2, |t| <= tan(pi/8): P's coefficients, z^0 first
# (tools/fit_atan.py)
_A0 = -0.3333333333333333
_A1 = 0.19999999999995652
_A2 = -0.1428571428469138
_A3 = 0.11111111017100327
_A4 = -0.0909090464769568
_A5 = 0.07692184699371778
_A6 = -0.06664531369805009
_A7 = 0.05858311810501153
_A8 = -0.05086254885823143
_A9 = 0.039253696320618564
_A10 = -0.01920252926841228
_TAN_PI_8 = 0.41421356237309503  # sqrt(2) - 1


@intrinsic
def _f64_bits(typingctx, x):  # type: ignore[no-untyped-def]
    """The IEEE-754 bit pattern of a float64 as an int64 (a register bitcast)."""
    if x != types.float64:
        return None

    def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
        return builder.bitcast(args[0], ir.IntType(64))

    return types.int64(types.float64), codegen


@intrinsic
def _bits_f64(typingctx, x):  # type: ignore[no-untyped-def]
    """The float64 whose IEEE-754 bit pattern is the int64 ``x``."""
    if x != types.int64:
        return None

    def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
        return builder.bitcast(args[0], ir.DoubleType())

    return types.float64(types.int64), codegen


@numba.njit(inline="always", error_model="numpy")
def log_unit(u: float) -> float:
    """``math.log(u)`` for a positive normal float64 ``u`` (no checks for 0, inf, NaN
    or subnormals: the kernel's uniforms lie in [2^-54, 1)). Absolute error below
    1e-15."""
    bits: int = _f64_bits(u)  # type: ignore[call-arg]
    e = (bits >> 52) - 1023
    # mantissa in [1, 2)
    m: float = _bits_f64((bits & 0x000FFFFFFFFFFFFF) | 0x3FF0000000000000)  # type: ignore[call-arg]
    hi = m > _SQRT2
    m = 0.5 * m if hi else m
    k = float(e + 1) if hi else float(e)
    f = m - 1.0  # [sqrt(2)/2 - 1, sqrt(2) - 1]
    s = f / (2.0 + f)
    z = s * s
    w = z * z
    t1 = w * (_LG2 + w * (_LG4 + w * _LG6))
    t2 = z * (_LG1 + w * (_LG3 + w * (_LG5 + w * _LG7)))
    rr = t2 + t1
    hfsq = 0.5 * f * f
    return k * _LN2_HI - ((hfsq - (s * (hfsq + rr) + k * _LN2_LO)) - f)


@numba.njit(inline="always", error_model="numpy")
def sincos_2pi(u: float) -> tuple[float, float]:
    """``(cos(2 pi u), sin(2 pi u))`` for ``u`` in [-1, 2], branch-free; absolute error
    below 5e-16."""
    q = math.floor(4.0 * u + 0.5)  # nearest quarter turn
    r = u - 0.25 * q  # exact; [-1/8, 1/8]
    x = _TWO_PI * r
    z = x * x
    s = x + x * z * (((((_S0 * z + _S1) * z + _S2) * z + _S3) * z + _S4) * z + _S5)
    c = 1.0 - 0.5 * z + z * z * (((((_C0 * z + _C1) * z + _C2) * z + _C3) * z + _C4) * z + _C5)
    qi = int(q) & 3
    # rotate by qi quarter turns: (c, s) -> (-s, c) -> (-c, -s) -> (s, -c)
    odd = (qi & 1) != 0
    co = s if odd else c
    si = c if odd else s
    co = -co if ((qi + 1) & 2) != 0 else co
    si = -si if (qi & 2) != 0 else si
    return co, si


@numba.njit(inline="always", error_model="numpy")
def atan2(y: float, x: float) -> float:
    """``math.atan2(y, x)`` for finite ``x``, ``y``, branch-free (selects only, so that
    LLVM vectorises a loop of it): error below 4e-16 relative to the result (the tests
    bound it over dense samples of every octant); ``atan2(+-0, x >= 0) = +-0`` and
    ``atan2(+-0, x < 0) = +-pi`` as libm, ``atan2(0, -0.0)`` 0 where libm gives pi.

    The octant is taken out exactly (the smaller of ``|x|``, ``|y|`` over the larger),
    ``t`` above tan(pi/8) is moved down by pi/4 (``(n - d) / (n + d)``, the same one
    division), and ``atan(t)`` is a polynomial in ``t^2``."""
    ax = abs(x)
    ay = abs(y)
    swap = ay > ax
    n = ax if swap else ay  # the smaller
    d = ay if swap else ax  # the larger
    big = n > _TAN_PI_8 * d
    num = n - d if big else n
    den = n + d if big else d
    den = den if den > 0.0 else 1.0  # x = y = 0: t = 0
    t = num / den
    z = t * t
    p = ((((((((((_A10 * z + _A9) * z + _A8) * z + _A7) * z + _A6) * z + _A5) * z + _A4) * z + _A3) * z + _A2)
          * z + _A1) * z + _A0)
    r = t + t * z * p
    r = r + 0.25 * math.pi if big else r
    r = 0.5 * math.pi - r if swap else r
    r = math.pi - r if x < 0.0 else r
    return math.copysign(r, y)
