"""A finite dense release's twins read together (session 53, zones/dense_twins.py): each twin's peak bound,
puff radius, continuous weight and width are those of the one-by-one reads to the bit, twins of another kind
(a passive puff, another lid) among them included, in their order. Since session 54 the stacked reads are the
one-by-one code itself given a TwinStack (each puff's numbers a column): each row of _sigmas, dense_axis_parts
and dense_axis_concentration of a stack is that puff's read alone, a stack of one included."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from plumecast.nearfield.gaussian import briggs_sigma_y, briggs_sigma_z, vertical_term
from plumecast.nearfield.zones.dense_finite import _peak_over, _width
from plumecast.nearfield.zones.dense_twins import TwinStack, twin_reads
from plumecast.nearfield.zones.plume import dense_axis_concentration
from plumecast.nearfield.zones.setup import _sigma_y, _sigmas, dense_axis_parts, plume_setup
from tests.nearfield.zone_cases import release_case


@pytest.mark.parametrize("shape", [(300,), (12, 25), ()])
def test_twins_read_together_are_those_read_one_by_one(shape):
    s = plume_setup(release_case("chlorine", 3000.0, 600, 1.5, "F"))
    n = int(np.prod(shape))
    xp = np.geomspace(0.5, 1.2e5, n).reshape(shape) if shape else np.asarray(2500.0)
    ambient = (briggs_sigma_y(xp, s.pg_class, s.terrain) * s.sigma_y_factor, briggs_sigma_z(xp, s.pg_class, s.terrain))
    sigmas = _sigmas(s, xp, ambient)
    v = vertical_term(0.0, 0.0, sigmas[1], s.mixing_height_m)
    axis = dense_axis_concentration(s, xp, sigmas, v)
    amb = np.maximum(ambient[0], 1e-3)
    rows = [(s.duration_s, s.instantaneous), *s.longer[::4]]
    t_p, p = rows[3]
    rows[3] = (t_p, replace(p, dense=None))  # a passive puff
    t_l, p = rows[5]
    rows[5] = (t_l, replace(p, mixing_height_m=300.0))  # another lid: the air's terms are not shared
    got = twin_reads(s, rows, xp, axis, amb, (ambient, v), sigmas[0])
    assert len(got) == len(rows)
    for (t_s, part), read in zip(rows, got, strict=True):
        pk, si, f = _peak_over(s, part, t_s, xp, axis, amb, (ambient, v))
        want = (pk, si, f, _width(sigmas[0], part, t_s, xp, si, f))
        for a, b in zip(read, want, strict=True):
            assert np.shape(a) == np.shape(b) and np.array_equal(a, b)



def test_twins_hand_overs_found_together_are_those_found_one_by_one():
    # session 53 (densezones2): the twins' passive hand-overs found on their grids stacked
    from plumecast.nearfield.zones.dense_twins import passive_takeovers
    from plumecast.nearfield.zones.setup import _passive_takeover

    kinds = set()
    for case in [("chlorine", 3000.0, 600, 1.5, "F"), ("chlorine", 3000.0, 300, 1.0, "A")]:
        s = plume_setup(release_case(*case))
        twins = [s.instantaneous, *(p for _, p in s.longer)]
        items = [(p, x) for p, x in zip(twins, [0.5, 3.0, 20.0, 150.0] * len(twins), strict=False)]
        items[2] = (replace(items[2][0], mixing_height_m=300.0), items[2][1])  # another lid: one by one
        items[4] = (replace(items[4][0], wind_speed_m_s=2.5), items[4][1])  # another wind: one by one
        got = passive_takeovers(items)
        assert len(got) == len(items)
        for (part, x_first), (x_pass, note) in zip(items, got, strict=True):
            notes: list[str] = []
            want = _passive_takeover(part, x_first, notes)
            assert np.float64(x_pass).tobytes() == np.float64(want).tobytes()
            assert note == (notes[0] if notes else None) and len(notes) <= 1
            kinds.add("none" if not np.isfinite(want) else "start" if want == x_first else "crossing")
    assert kinds == {"none", "start", "crossing"}


@pytest.mark.parametrize("places", ["one grid", "a grid a row", "all beyond the curves"])
def test_a_stack_of_puffs_reads_each_puff_as_read_alone(places):
    # session 54 (twins): _sigmas, _sigma_y, dense_axis_parts and dense_axis_concentration given a TwinStack
    # (the puffs' masses, curves' ends, far shifts and hand-overs as columns) give one row a puff, each that puff's
    # values read alone, to the bit; the workbook curve and the far field's σ_z (a lag table each) row by row
    s = plume_setup(release_case("chlorine", 3000.0, 600, 1.5, "F"))
    puffs = [s.instantaneous, *(p for _, p in s.longer[::3])]
    ends = [p.dense.curves_end_m for p in puffs]
    if places == "one grid":
        x = np.geomspace(0.5, 1.2e5, 300)
        rows = [x] * len(puffs)
    elif places == "a grid a row":
        rows = [np.geomspace(x0, 1e5, 200) for x0 in np.geomspace(0.5, 150.0, len(puffs))]
        x = np.stack(rows)
    else:
        x = np.geomspace(1.01 * max(ends), 1e5, 50)
        rows = [x] * len(puffs)
    assert min(ends) < 1.2e5 and (places == "all beyond the curves" or max(ends) > 0.5)
    for stack, xs, rows_s in ((TwinStack.of(puffs), x, rows),  # and a stack of one: the fourth puff
                              (TwinStack.of(puffs[3:4]), x[3:4] if x.ndim == 2 else x, rows[3:4])):
        n = len(stack.rows)
        got = [*_sigmas(stack, xs), _sigma_y(stack, xs), *dense_axis_parts(stack, xs),
               dense_axis_concentration(stack, xs)]
        for k, (puff, xr) in enumerate(zip(stack.rows, rows_s, strict=True)):
            want = [*_sigmas(puff, xr), _sigma_y(puff, xr), *dense_axis_parts(puff, xr),
                    dense_axis_concentration(puff, xr)]
            for g, w in zip(got, want, strict=True):
                row = np.broadcast_to(g, (n, *np.shape(xr)))[k]
                assert row.shape == w.shape and row.tobytes() == np.asarray(w, dtype=float).tobytes()
