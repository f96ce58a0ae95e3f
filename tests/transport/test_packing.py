"""The 3-D kernels' packed copies of a WindGrid (windgrid.pack_wind, pack_surface, filled
by the compiled loops of transport/packing.py) hold, value for value, what the NumPy
assignments of the fields into the node-interleaved layouts give."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from plumecast.transport.windgrid import WindGrid, pack_surface, pack_wind


def _grid(nt: int, nz: int, *, w: bool, stomata: bool, dry: bool, land: bool) -> WindGrid:
    rng = np.random.default_rng(nt * 100 + nz)
    nlat, nlon = 7, 12
    f32 = np.float32
    return WindGrid(
        vec=rng.normal(size=(nt, nz, 3, nlat, nlon)).astype(f32), times_s=np.arange(nt) * 3600.0,
        lon0=0.0, dlon=30.0, nlon=nlon, lat0=-90.0, dlat=30.0, nlat=nlat, global_lon=True,
        polar_south=True, polar_north=True, z_m=np.linspace(10.0, 5000.0, nz),
        w=rng.normal(size=(nt, nz, nlat, nlon)).astype(f32) if w else None,
        surface=np.abs(rng.normal(size=(nt, 5, nlat, nlon))).astype(f32) + f32(1.0),
        stomata=rng.uniform(0.0, 30.0, size=(nt, 2, nlat, nlon)).astype(f32) if stomata else None,
        land=rng.uniform(size=(nlat, nlon)).astype(f32) if land else None,
        dry_velocity=rng.uniform(0.0, 0.01, size=(nt, nlat, nlon)).astype(f32) if dry else None,
    )


def _wind_reference(g: WindGrid, records_inner: bool, min_records: int) -> np.ndarray:
    nt, nz, _, nlat, nlon = g.vec.shape
    ntp = max(nt, min_records)
    out = np.zeros((ntp, nlat, nlon, nz, 4), np.float32)
    for k in range(ntp):
        out[k, ..., :3] = g.vec[min(k, nt - 1)].transpose(2, 3, 0, 1)
        if g.w is not None:
            out[k, ..., 3] = g.w[min(k, nt - 1)].transpose(1, 2, 0)
    return np.ascontiguousarray(out.transpose(1, 2, 3, 0, 4)) if records_inner else out


def _surface_reference(g: WindGrid, records_inner: bool, min_records: int) -> np.ndarray:
    assert g.surface is not None
    nt, nf, nlat, nlon = g.surface.shape
    ntp = max(nt, min_records)
    out = np.zeros((ntp, nlat, nlon, 8), np.float32)
    for k in range(ntp):
        kk = min(k, nt - 1)
        out[k, ..., :nf] = g.surface[kk].transpose(1, 2, 0)
        if g.stomata is not None:
            out[k, ..., nf:nf + 2] = g.stomata[kk].transpose(1, 2, 0)
        if g.dry_velocity is not None:
            out[k, ..., nf] = g.dry_velocity[kk]
        out[k, ..., nf + 2] = 1.0 if g.land is None else g.land
    return np.ascontiguousarray(out.transpose(1, 2, 0, 3)) if records_inner else out


@pytest.mark.parametrize(("nt", "nz", "extras"), [(1, 3, False), (2, 4, True), (3, 1, True), (2, 2, False)])
@pytest.mark.parametrize("records_inner", [False, True])
def test_packed_fields_are_the_assigned_ones(nt, nz, extras, records_inner):
    g = _grid(nt, nz, w=extras, stomata=extras, dry=extras and nt == 2, land=extras)
    for min_records in (1, 2):
        want = _wind_reference(g, records_inner, min_records)
        got = pack_wind(g, records_inner=records_inner, min_records=min_records)
        assert got.shape == want.shape and got.dtype == np.float32 and got.flags.c_contiguous
        np.testing.assert_array_equal(got, want)
        flat = pack_wind(g, records_inner=records_inner, min_records=min_records, pad=9)
        assert flat.ndim == 1 and flat.size == want.size + 9
        np.testing.assert_array_equal(flat[:want.size], want.ravel())
        assert not flat[want.size:].any()
        want_s = _surface_reference(g, records_inner, min_records)
        got_s = pack_surface(g, records_inner=records_inner, min_records=min_records)
        assert got_s.shape == want_s.shape and got_s.flags.c_contiguous
        np.testing.assert_array_equal(got_s, want_s)


def test_no_boundary_layer_packs_one_node_of_zeros():
    g = dataclasses.replace(_grid(2, 2, w=False, stomata=False, dry=False, land=False), surface=None)
    assert pack_surface(g, records_inner=True, min_records=2).shape == (1, 1, 2, 8)
    assert not pack_surface(g).any()


def test_packing_into_the_last_windows_memory():
    """``out`` of the right size and type is written over and returned (the numba kernel
    packs each new window into the last one's memory); any other ``out`` is left alone."""
    g = _grid(2, 3, w=True, stomata=True, dry=False, land=True)
    first = pack_wind(g, records_inner=True, min_records=2, pad=8)
    h = dataclasses.replace(g, vec=g.vec[::-1].copy(), w=None)
    again = pack_wind(h, records_inner=True, min_records=2, pad=8, out=first)
    assert again is first
    np.testing.assert_array_equal(again[:-8], _wind_reference(h, True, 2).ravel())
    wrong = np.ones(first.size + 1, np.float32)
    other = pack_wind(h, records_inner=True, min_records=2, pad=8, out=wrong)
    assert other is not wrong and wrong.all()
    s = pack_surface(g, records_inner=True, min_records=2)
    s2 = pack_surface(h, records_inner=True, min_records=2, out=s)
    assert s2 is s
    np.testing.assert_array_equal(s2, _surface_reference(h, True, 2))
    assert pack_surface(h, records_inner=True, min_records=3, out=s) is not s


def test_the_numba_kernel_packs_each_window_afresh():
    """The 3-D numba kernel's packed met follows the grid it is given when a new window
    arrives, also in the memory of the last one (kernels_numba_3d._packed)."""
    from plumecast.transport.kernels_numba_3d import _packed

    g = _grid(2, 3, w=True, stomata=False, dry=False, land=False)
    wf, sf, swap = _packed(g)
    assert _packed(g)[0] is wf and not swap
    h = dataclasses.replace(g, vec=g.vec * np.float32(2.0), surface=g.surface + np.float32(1.0))
    wf2, sf2, swap2 = _packed(h)
    assert wf2 is wf and not swap2  # the same memory
    np.testing.assert_array_equal(wf2[:-8], _wind_reference(h, True, 2).ravel())
    np.testing.assert_array_equal(sf2, _surface_reference(h, True, 2).ravel())


def test_another_thread_never_gets_or_overwrites_a_threads_packed_met():
    """The packed met is handed back, and packed over, only in the thread that made it:
    a second thread with the same grid gets its own copy, so that the first thread's next
    window, packed into the old memory, cannot change what the second one reads."""
    import threading

    from plumecast.transport.kernels_numba_3d import _packed

    g = _grid(2, 3, w=True, stomata=False, dry=False, land=False)
    wf, _, _ = _packed(g)
    got = {}
    t = threading.Thread(target=lambda: got.update(wf=_packed(g)[0]))
    t.start()
    t.join()
    assert got["wf"] is not wf
    np.testing.assert_array_equal(got["wf"], wf)


@pytest.mark.parametrize("extras", [dict(w=True, stomata=True, dry=False, land=True),
                                    dict(w=False, stomata=False, dry=True, land=False)])
def test_a_streamed_window_one_record_on_packs_only_its_new_record(extras):
    """A window one record on in the same stream (WindGrid.stream) shares a record with
    the last one packed: only the new record is packed, over the oldest, and the packed
    records are a ring (``swap`` alternates); read the right way round they are the
    window's, value for value. Another stream, or a gap, packs the window afresh."""
    from plumecast.transport.kernels_numba_3d import _packed

    whole = _grid(6, 3, **extras)
    token = object()

    def window(k, tok=token):
        pick = slice(k, k + 2)
        return dataclasses.replace(
            whole, vec=np.ascontiguousarray(whole.vec[pick]), times_s=whole.times_s[pick],
            w=None if whole.w is None else np.ascontiguousarray(whole.w[pick]),
            surface=np.ascontiguousarray(whole.surface[pick]),
            stomata=None if whole.stomata is None else np.ascontiguousarray(whole.stomata[pick]),
            dry_velocity=None if whole.dry_velocity is None else np.ascontiguousarray(whole.dry_velocity[pick]),
            stream=(tok, k))

    def unring(wf, sf, swap, g):
        _, nz, _, nlat, nlon = g.vec.shape
        order = [1, 0] if swap else [0, 1]
        wind = wf[:-8].reshape(nlat, nlon, nz, 2, 4)[:, :, :, order]
        return wind.ravel(), sf.reshape(nlat, nlon, 2, 8)[:, :, order].ravel()

    seen = []
    for k, tok in [(0, token), (1, token), (2, token), (3, token), (3, object()), (4, token), (2, token)]:
        g = window(k, tok)
        wf, sf, swap = _packed(g)
        seen.append(swap)
        wind, surface = unring(wf, sf, swap, g)
        np.testing.assert_array_equal(wind, _wind_reference(g, True, 2).ravel())
        np.testing.assert_array_equal(surface, _surface_reference(g, True, 2).ravel())
    # a ring along the stream; afresh for another stream's window, after it and after a jump back
    assert seen == [False, True, False, True, False, False, False]
