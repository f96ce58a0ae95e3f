"""Checkpoint and resume (issue 12, item 5): a resumed run is bitwise the uninterrupted one."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from plumecast.checkpoint import CheckpointWriter, checkpoint_path, load_checkpoint
from plumecast.errors import DataFileError
from plumecast.runner import run
from plumecast.scenario import scenario_from_dict

SCENARIO = """\
name: checkpointed
start: 2026-01-10T00:00:00Z
duration_h: {hours}
time_step_s: 600
particles: {particles}
backend: {backend}
seed: 11
agent: chlorine
met: {{source: uniform, u_m_s: 4, v_m_s: 1.5}}
turbulence: {{kh_m2_s: 3000, kz_m2_s: 20, mixing_height_m: 800}}
releases:
  - {{type: point, name: tank, lat: 50, lon: 8, rate_kg_s: 2, stop_h: 3}}
output:
  grid: {{lon_min: 4, lon_max: 16, lat_min: 46, lat_max: 56, resolution_deg: 0.25}}
  interval_min: 60
receptors:
  points:
    - {{name: near, lat: 50.1, lon: 8.6, population: 20000}}
    - {{name: far, lat: 50.4, lon: 10.5, population: 100000}}
"""


def _scenario(tmp_path: Path, backend: str, hours: int = 8, particles: int = 3000) -> Path:
    p = tmp_path / f"{backend}.yaml"
    p.write_text(SCENARIO.format(backend=backend, hours=hours, particles=particles))
    return p


class _Stop(Exception):
    pass


def _stop_at_first_checkpoint(sc, outdir: Path, every_h: float, scenario=None,  # type: ignore[no-untyped-def]
                              scenario_file=None, **run_kwargs):
    """Run ``sc`` until its first checkpoint (every ``every_h`` h) and return the state read back
    (``scenario``, ``scenario_file``: what the writer keeps of them, as the command line gives;
    ``run_kwargs``: more arguments of :func:`plumecast.runner.run`, as ``exposure_tags_h``)."""
    writer = CheckpointWriter(outdir, every_h, sc.time_step_s,
                              scenario=sc.model_dump(mode="json") if scenario is None else scenario,
                              scenario_file=scenario_file)
    save = writer.save

    def save_then_stop(state):  # type: ignore[no-untyped-def]
        save(state)
        raise _Stop

    writer.save = save_then_stop  # type: ignore[method-assign]
    with pytest.raises(_Stop):
        run(sc, checkpoint=writer, **run_kwargs)
    return load_checkpoint(checkpoint_path(outdir))


@pytest.mark.parametrize("backend", ["numpy", "numba"])
@pytest.mark.parametrize("every_h", [1.0, 3.0])
def test_resume_in_process_is_bitwise(tmp_path, backend, every_h):
    from plumecast.scenario import load_scenario

    sc = load_scenario(_scenario(tmp_path, backend))
    whole = run(sc)
    state = _stop_at_first_checkpoint(sc, tmp_path / "o", every_h)
    assert state.step == int(round(every_h * 3600 / sc.time_step_s))
    again = run(scenario_from_dict(state.scenario), resume_from=state)
    assert np.array_equal(whole.concentration.values, again.concentration.values)
    assert np.array_equal(whole.concentration["time"].values, again.concentration["time"].values)
    assert whole.receptor_series is not None and again.receptor_series is not None
    assert np.array_equal(whole.receptor_series.values, again.receptor_series.values, equal_nan=True)
    assert whole.budget == again.budget and whole.particle_steps == again.particle_steps
    # the countdowns' peaks within the steps too, the particles' (their places at the resumed step's start) in them
    assert whole.exposure is not None and again.exposure is not None
    assert np.array_equal(whole.exposure.peak_extra, again.exposure.peak_extra)
    assert np.array_equal(whole.exposure.particle_peak, again.exposure.particle_peak)
    for name in ("lon", "lat", "z", "mass", "status"):
        assert np.array_equal(getattr(whole.particles, name), getattr(again.particles, name)), name
    # the provenance too: the near-field plume's wind at the source over the whole release (kept in the
    # checkpoint; a resumed run had left out the line of the steps before the resume)
    assert whole.stats["met_provenance"] == again.stats["met_provenance"]
    assert any("near-field plumes" in line and "m/s from" in line for line in again.stats["met_provenance"])


def test_a_damaged_checkpoint_is_one_clear_error(tmp_path):
    path = checkpoint_path(tmp_path)
    path.parent.mkdir()
    path.write_bytes(b"PK\x03\x04 not really")
    with pytest.raises(DataFileError, match=r"state.npz: not a readable plumecast checkpoint"):
        load_checkpoint(path)
    with pytest.raises(DataFileError, match=r"no checkpoint there"):
        load_checkpoint(tmp_path / "elsewhere" / "state.npz")


def _cli(args: list[str], cwd: Path, **kw: object) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "plumecast", *args], cwd=cwd, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, **kw)  # type: ignore[call-overload]


@pytest.mark.slow
def test_kill_9_then_resume_gives_the_uninterrupted_result(tmp_path):
    _scenario(tmp_path, "numpy", hours=12, particles=2000)
    whole = _cli(["run", "numpy.yaml", "-o", "whole", "-q", "--no-map"], tmp_path)
    victim = _cli(["run", "numpy.yaml", "-o", "cut", "-q", "--no-map", "--checkpoint-h", "2"], tmp_path)
    state = checkpoint_path(tmp_path / "cut")
    t0 = time.monotonic()
    rng = np.random.default_rng()
    wanted = int(rng.integers(1, 4))  # kill after the first, second or third checkpoint
    seen = 0
    last = None
    while victim.poll() is None and seen < wanted and time.monotonic() - t0 < 300:
        if state.exists():
            stamp = state.stat().st_mtime_ns
            if stamp != last:
                seen, last = seen + 1, stamp
        time.sleep(0.01)
    assert victim.poll() is None, "the run ended before it could be killed"
    os.kill(victim.pid, signal.SIGKILL)
    victim.wait(timeout=60)
    assert victim.returncode == -signal.SIGKILL
    assert not (tmp_path / "cut" / "concentration.nc").exists()  # no partial set
    resumed = _cli(["run", "--resume", "cut", "-q", "--no-map"], tmp_path)
    out, err = resumed.communicate(timeout=600)
    assert resumed.returncode == 0, err
    assert "resuming 'checkpointed' at +" in out
    _, err = whole.communicate(timeout=600)
    assert whole.returncode == 0, err
    with xr.open_dataset(tmp_path / "whole" / "concentration.nc") as a, \
            xr.open_dataset(tmp_path / "cut" / "concentration.nc") as b:
        assert np.array_equal(a["concentration"].values, b["concentration"].values)
        assert np.array_equal(a["time"].values, b["time"].values)
    for name in ("receptors.csv", "consequences.csv"):
        assert (tmp_path / "whole" / name).read_text() == (tmp_path / "cut" / name).read_text(), name
    assert not (tmp_path / "cut" / ".checkpoint").exists()  # a finished run drops its checkpoint
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cut", "numpy.yaml", "whole"]


def test_resume_without_a_checkpoint_is_one_clear_error(tmp_path):
    (tmp_path / "empty").mkdir()
    r = subprocess.run([sys.executable, "-m", "plumecast", "run", "--resume", "empty"], cwd=tmp_path,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "--resume empty: no checkpoint there (empty/.checkpoint/state.npz is missing" in r.stderr


def test_a_checkpoint_is_not_dropped_by_a_rerun_and_a_resume_names_an_edited_scenario(tmp_path, capsys,
                                                                                         monkeypatch):
    """Outputs audit, session 30: running the same command again into the folder of an
    interrupted run started from zero and deleted its checkpoint without a word; and a
    resume after the scenario file was edited continued the old scenario silently. The
    rerun is refused naming the checkpoint (``--force`` starts again); the resume says
    the file changed and that its edits are not used."""
    from plumecast.scenario import load_scenario
    from tests.helpers import run_cli

    monkeypatch.setenv("COLUMNS", "300")
    path = _scenario(tmp_path, "numpy", hours=3, particles=300)
    sc = load_scenario(path)
    _stop_at_first_checkpoint(sc, tmp_path / "cut", 1.0, scenario=sc.checkpoint_dict(), scenario_file=path)
    rc, out = run_cli(["run", str(path), "-o", str(tmp_path / "cut"), "-q", "--no-map"], capsys, monkeypatch)
    assert rc == 2, out
    assert "holds the checkpoint of an interrupted run ('checkpointed' at +1 h of 3 h); continue it with " \
           f"`plumecast run --resume {tmp_path / 'cut'}`, or give --force" in " ".join(out.split())
    assert checkpoint_path(tmp_path / "cut").is_file()
    path.write_text(path.read_text().replace("rate_kg_s: 2", "rate_kg_s: 0.2"))
    rc, out = run_cli(["run", "--resume", str(tmp_path / "cut"), "-q", "--no-map"], capsys, monkeypatch)
    assert rc == 0, out
    said = " ".join(out.split())
    assert f"note: {path.resolve()} has changed since the run started; --resume continues the scenario as it was " \
           "then" in said
    assert not checkpoint_path(tmp_path / "cut").exists()
    # a damaged checkpoint cannot be resumed: the refusal says so, and --force starts again
    damaged = checkpoint_path(tmp_path / "bad")
    damaged.parent.mkdir(parents=True)
    damaged.write_bytes(b"PK\x03\x04 not a whole checkpoint")
    rc, out = run_cli(["run", str(path), "-o", str(tmp_path / "bad"), "-q", "--no-map"], capsys, monkeypatch)
    assert rc == 2 and "holds a damaged checkpoint" in " ".join(out.split()), out
    rc, out = run_cli(["run", str(path), "-o", str(tmp_path / "bad"), "-q", "--no-map", "--force"], capsys,
                      monkeypatch)
    assert rc == 0, out


@pytest.mark.parametrize("fail_at", [1, 2])
def test_a_checkpoint_that_cannot_be_written_says_what_is_kept(tmp_path, capsys, monkeypatch, fail_at):
    """A full disk at a checkpoint (outputs audit, session 30): the error names the last
    checkpoint written, which stays; a first checkpoint that fails leaves no empty folder."""
    import plumecast.checkpoint as ck
    from plumecast.errors import OutputPathError
    from tests.helpers import run_cli

    monkeypatch.setenv("COLUMNS", "300")
    path = _scenario(tmp_path, "numpy", hours=3, particles=200)
    real = ck.save_checkpoint
    calls = []

    def full_disk(state, where):  # type: ignore[no-untyped-def]
        calls.append(state.step)
        if len(calls) == fail_at:
            raise OutputPathError(f"{where}: could not be written (No space left on device)")
        return real(state, where)

    monkeypatch.setattr(ck, "save_checkpoint", full_disk)
    rc, out = run_cli(["run", str(path), "-o", str(tmp_path / "out"), "-q", "--no-map", "--checkpoint-h", "1"],
                      capsys, monkeypatch)
    said = " ".join(out.split())
    assert rc == 2 and "No space left on device" in said, out
    if fail_at == 1:
        assert not (tmp_path / "out" / ".checkpoint").exists() and "note: the checkpoint" not in said
    else:
        assert checkpoint_path(tmp_path / "out").is_file()
        assert "note: the checkpoint at +1 h is kept in" in said and "plumecast run --resume" in said


# --------------------------------------------------------------------------- deposition on 3-D met
# The synthetic ERA5-style files of tests/met/style_files.py (hourly records over hills,
# a boundary layer and rain): the run reads its met a record window at a time, so a
# resumed run refills that window from the files; the deposited-mass fields and the
# dry/wet totals come from the checkpoint.


@pytest.fixture(scope="module")
def era5_files(tmp_path_factory):
    from tests.met.style_files import atmosphere, write_era5

    d = tmp_path_factory.mktemp("met3d")
    return write_era5(atmosphere(n_times=4), d / "era5_pl.nc", d / "era5_sl.nc")


def _deposition_scenario(paths, **over):  # type: ignore[no-untyped-def]
    data = {
        "name": "deposits", "start": "2026-03-01T00:00:00Z", "duration_h": 3, "time_step_s": 600,
        "particles": 600, "seed": 5, "backend": "numpy", "agent": {"name": "ammonia"},
        "deposition": {"dry_velocity_m_s": 0.01, "scavenging_a_s": 1.0e-4, "scavenging_b": 0.62},
        "met": {"source": "file", "path": [str(p) for p in paths]},
        "releases": [{"type": "point", "lat": 45.0, "lon": 0.0, "height_m": 20, "rate_kg_s": 2.0, "stop_h": 2}],
        "output": {"grid": {"lon_min": -10, "lon_max": 10, "lat_min": 40, "lat_max": 50, "resolution_deg": 0.5},
                   "interval_min": 60},
        "receptors": {"points": [{"name": "east", "lat": 45.2, "lon": 1.0}]},
    }
    data.update(over)
    return scenario_from_dict(data)


@pytest.fixture(scope="module")
def deposition_whole(era5_files, tmp_path_factory):
    from plumecast.runner import write_outputs

    sc = _deposition_scenario(era5_files)
    r = run(sc)
    out = tmp_path_factory.mktemp("whole")
    write_outputs(r, out)
    return sc, r, out / "concentration.nc"


@pytest.mark.parametrize("every_h", [1.0, 2.0])
def test_resume_with_deposition_on_3d_met_is_bitwise(tmp_path, deposition_whole, every_h):
    from plumecast.runner import write_outputs

    sc, whole, whole_nc = deposition_whole
    assert whole.budget.deposited_dry > 0 and whole.budget.deposited_wet > 0  # both removals are at work
    assert whole.stats["met_window_records"] == 2  # the rolling window, not the whole met
    state = _stop_at_first_checkpoint(sc, tmp_path / "o", every_h)
    assert state.step == int(round(every_h * 3600 / sc.time_step_s))
    assert state.removed is not None and state.deposited is not None
    assert len(state.deposited) == len(state.fields) == int(every_h)
    again = run(scenario_from_dict(state.scenario), resume_from=state)
    assert again.budget == whole.budget and again.particle_steps == whole.particle_steps
    assert whole.deposited is not None and again.deposited is not None
    assert np.array_equal(whole.deposited.values, again.deposited.values)
    assert np.array_equal(whole.concentration.values, again.concentration.values)
    assert whole.receptor_series is not None and again.receptor_series is not None
    assert np.array_equal(whole.receptor_series.values, again.receptor_series.values, equal_nan=True)
    for name in ("lon", "lat", "z", "mass", "status"):
        assert np.array_equal(getattr(whole.particles, name), getattr(again.particles, name)), name
    write_outputs(again, tmp_path)
    with xr.open_dataset(whole_nc) as a, xr.open_dataset(tmp_path / "concentration.nc") as b:
        assert "deposited_mass" in a and sorted(a.data_vars) == sorted(b.data_vars)
        for name in a.variables:
            assert np.array_equal(a[name].values, b[name].values, equal_nan=True), name
        assert a.attrs == b.attrs  # mass_deposited_dry_kg, mass_deposited_wet_kg, ... to the last bit


def _as_format_1(path: Path) -> None:
    """Rewrite a checkpoint as the first format wrote it: no deposition state, version 1."""
    import json

    with np.load(path, allow_pickle=False) as z:
        data = {k: z[k] for k in z.files if not k.startswith("d_")}
    meta = json.loads(str(data["meta"]))
    meta["version"] = 1
    data["meta"] = np.array(json.dumps(meta))
    with open(path, "wb") as fh:
        np.savez(fh, **data)


def test_a_checkpoint_of_the_first_format(tmp_path, era5_files):
    """One without deposition still resumes a run without deposition; a run with
    deposition refuses it in one line, as does a run without deposition a checkpoint
    that has it."""
    from plumecast.scenario import load_scenario

    plain = load_scenario(_scenario(tmp_path, "numpy", hours=3, particles=500))
    state = _stop_at_first_checkpoint(plain, tmp_path / "plain", 1.0)
    assert state.removed is None and state.deposited is None
    _as_format_1(checkpoint_path(tmp_path / "plain"))
    old = load_checkpoint(checkpoint_path(tmp_path / "plain"))
    assert old.removed is None
    assert run(plain, resume_from=old).budget == run(plain).budget

    dep = _deposition_scenario(era5_files, duration_h=2)
    _stop_at_first_checkpoint(dep, tmp_path / "dep", 1.0)
    path = checkpoint_path(tmp_path / "dep")
    with pytest.raises(DataFileError, match=r"checkpoint: it holds deposited mass, but the run has no deposition"):
        run(dep.replace(deposition="off"), resume_from=load_checkpoint(path))
    _as_format_1(path)
    with pytest.raises(DataFileError, match=r"^checkpoint: it holds no deposited mass \(written before plumecast "
                                            r"kept it, or by a run without deposition\), but the run has "
                                            r"deposition; rerun from the start$"):
        run(dep, resume_from=load_checkpoint(path))
