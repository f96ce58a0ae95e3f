"""The coefficients of :func:`plumecast.transport.fastmath.atan2`'s polynomial.

``atan(t) = t + t z P(z)``, ``z = t^2``, on ``0 <= t <= tan(pi/8)``: ``P`` of degree 10,
least squares on 200 Chebyshev nodes of ``z`` in 40-digit arithmetic (mpmath), the
coefficients rounded to float64. Prints them and the largest relative error of the
polynomial so rounded (evaluated in 40 digits on 4000 points), 6.4e-18 when this was
written. Needs ``pip install mpmath`` (not a dependency of plumecast).

Usage: ``python tools/fit_atan.py``
"""

from __future__ import annotations

import mpmath as mp

DEGREE = 10
NODES = 200


def target(z: mp.mpf) -> mp.mpf:
    """``(atan(t) - t) / (t z)``, ``t = sqrt(z)``; ``-1/3`` at 0."""
    if z == 0:
        return mp.mpf(-1) / 3
    t = mp.sqrt(z)
    return (mp.atan(t) - t) / (t * z)


def main() -> None:
    mp.mp.dps = 40
    top = mp.tan(mp.pi / 8)
    zmax = top * top
    zs = [zmax * (1 - mp.cos(mp.pi * (k + mp.mpf(1) / 2) / NODES)) / 2 for k in range(NODES)]
    a = mp.matrix(NODES, DEGREE + 1)
    b = mp.matrix(NODES, 1)
    for i, z in enumerate(zs):
        for j in range(DEGREE + 1):
            a[i, j] = z**j
        b[i] = target(z)
    c = mp.qr_solve(a, b)[0]
    coeffs = [float(c[j]) for j in range(DEGREE + 1)]
    worst = mp.mpf(0)
    for k in range(4000):
        t = top * (k + mp.mpf(1) / 2) / 4000
        z = t * t
        p = mp.mpf(coeffs[-1])
        for cj in reversed(coeffs[:-1]):
            p = p * z + mp.mpf(cj)
        worst = max(worst, abs((t + t * z * p) / mp.atan(t) - 1))
    print("coefficients (z^0 first):")
    for cj in coeffs:
        print(f"    {cj!r},")
    print(f"largest relative error of the rounded polynomial: {float(worst):.2e}")


if __name__ == "__main__":
    main()
