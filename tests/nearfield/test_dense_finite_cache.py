"""dense_finite_parts keeps its last results (session 53): a repeated read is not computed again, and
any change of setup, places or envelope flag is (a wrong key would hand out another read's values)."""

from __future__ import annotations

import numpy as np

from plumecast.nearfield.zones import dense_finite
from plumecast.nearfield.zones.setup import plume_setup
from tests.nearfield.zone_cases import release_case


def test_repeated_reads_are_kept_and_other_reads_are_not_mixed_up(monkeypatch):
    f = plume_setup(release_case("chlorine", 3000.0, 600, 1.5, "F"))
    d = plume_setup(release_case("chlorine", 3000.0, 600, 1.5, "D"))
    computed = []
    real = dense_finite._dense_finite_parts

    def counted(setup, x, envelope):
        computed.append((setup, np.array(x), envelope))
        return real(setup, x, envelope)

    monkeypatch.setattr(dense_finite, "_dense_finite_parts", counted)
    monkeypatch.setattr(dense_finite, "_PARTS", [])
    x = np.geomspace(10.0, 5e4, 40)
    for setup in (f, d):  # each setup's envelope grid (a read of its own) out of the way
        dense_finite.dense_finite_parts(setup, np.array([7.0]))
    computed.clear()
    first = dense_finite.dense_finite_parts(f, x)
    first[0][:] = -1.0  # a caller writing into what it was given does not change the kept values
    again = dense_finite.dense_finite_parts(f, x.copy())
    assert len(computed) == 1
    want = real(f, x, True)
    for a, b in zip(again, want, strict=True):
        assert np.array_equal(a, b)
    reads = [(f, x, False), (d, x, True), (f, x * (1 + 1e-15), True), (f, x[:-1], True),
             (f, x.reshape(4, 10), True), (f, float(x[3]), True)]
    for setup, places, envelope in reads:
        n = len(computed)
        got = dense_finite.dense_finite_parts(setup, places, envelope=envelope)
        assert len(computed) == n + 1, (setup.pg_class, np.shape(places), envelope)
        for a, b in zip(got, real(setup, np.asarray(places, dtype=float), envelope), strict=True):
            assert np.array_equal(a, b)
    # the first read is still kept (the last 8), the D setup's too
    n = len(computed)
    dense_finite.dense_finite_parts(f, x)
    dense_finite.dense_finite_parts(d, x)
    assert len(computed) == n
