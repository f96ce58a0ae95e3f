"""Outputs as one complete set: staging, lock, --force, interrupts (issue 12, items 3, 4, 8)."""

from __future__ import annotations

import glob
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from plumecast.errors import OutputPathError
from plumecast.fileio import MARKER_NAME, OutputSet
from tests.helpers import SMALL_ZONES_SCENARIO, run_until_sigterm, sigint_default, small_scenario

RUN = small_scenario("outputs", 500, "backend: numpy")


def _set(folder: Path, files: dict[str, str], **kw: object) -> OutputSet:
    with OutputSet(folder, command="test", **kw) as out:  # type: ignore[arg-type]
        assert out.path != folder and out.path.parent == folder.parent
        for name, text in files.items():
            (out.path / name).write_text(text)
    return out


def _leftovers(parent: Path) -> list[str]:
    return sorted(p.name for p in parent.iterdir() if "plumecast-" in p.name)


def test_set_appears_whole_with_a_marker(tmp_path):
    out = _set(tmp_path / "o", {"a.nc": "1", "b.csv": "2"})
    assert sorted(p.name for p in (tmp_path / "o").iterdir()) == [MARKER_NAME, "a.nc", "b.csv"]
    assert json.loads((tmp_path / "o" / MARKER_NAME).read_text())["files"] == ["a.nc", "b.csv"]
    assert out.committed == [tmp_path / "o" / "a.nc", tmp_path / "o" / "b.csv"]
    assert _leftovers(tmp_path) == []  # no staging folder, no lock file


def test_results_need_force_and_old_files_do_not_stay(tmp_path):
    _set(tmp_path / "o", {"a.nc": "1", "old.csv": "2"})
    with pytest.raises(OutputPathError, match=r"o: already holds plumecast results .*--force"):
        _set(tmp_path / "o", {"a.nc": "new"})
    assert (tmp_path / "o" / "a.nc").read_text() == "1"
    _set(tmp_path / "o", {"a.nc": "new"}, force=True)
    assert sorted(p.name for p in (tmp_path / "o").iterdir()) == [MARKER_NAME, "a.nc"]  # old.csv is gone
    assert (tmp_path / "o" / "a.nc").read_text() == "new"
    assert _leftovers(tmp_path) == []


def test_a_folder_with_other_files_keeps_them(tmp_path):
    (tmp_path / "o").mkdir()
    (tmp_path / "o" / "notes.txt").write_text("mine")
    with pytest.raises(OutputPathError, match=r"is not empty \(notes.txt\)"):
        _set(tmp_path / "o", {"a.nc": "1"})
    _set(tmp_path / "o", {"a.nc": "1", "b.nc": "1"}, force=True)
    _set(tmp_path / "o", {"a.nc": "2"}, force=True)
    assert sorted(p.name for p in (tmp_path / "o").iterdir()) == [MARKER_NAME, "a.nc", "notes.txt"]
    assert (tmp_path / "o" / "notes.txt").read_text() == "mine"


def test_a_failure_leaves_the_folder_as_it_was(tmp_path):
    _set(tmp_path / "o", {"a.nc": "1"})
    before = {p.name: p.read_text() for p in (tmp_path / "o").iterdir()}
    with pytest.raises(KeyboardInterrupt), OutputSet(tmp_path / "o", command="t", force=True) as out:
        (out.path / "a.nc").write_text("half")
        raise KeyboardInterrupt
    assert {p.name: p.read_text() for p in (tmp_path / "o").iterdir()} == before
    assert _leftovers(tmp_path) == []
    with pytest.raises(RuntimeError), OutputSet(tmp_path / "new", command="t") as out:
        (out.path / "a.nc").write_text("half")
        raise RuntimeError
    assert not (tmp_path / "new").exists()


_HOLD = """
import sys, time
from plumecast.fileio import OutputSet
with OutputSet(sys.argv[1], command="holder") as out:
    (out.path / "a.nc").write_text("holder")
    print("holding", flush=True)
    time.sleep(float(sys.argv[2]))
"""


def test_two_runs_into_one_folder(tmp_path):
    holder = subprocess.Popen([sys.executable, "-c", _HOLD, str(tmp_path / "o"), "3"], stdout=subprocess.PIPE,
                              text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
        with pytest.raises(OutputPathError) as info:
            _set(tmp_path / "o", {"a.nc": "second"}, force=True)
        msg = str(info.value)
        assert str(tmp_path / "o") in msg and f"pid {holder.pid}" in msg and "another plumecast run" in msg
    finally:
        assert holder.wait(timeout=60) == 0
    assert (tmp_path / "o" / "a.nc").read_text() == "holder"  # one complete set, the first run's
    assert json.loads((tmp_path / "o" / MARKER_NAME).read_text())["files"] == ["a.nc"]
    _set(tmp_path / "o", {"a.nc": "third"}, force=True)  # the lock is free again
    assert (tmp_path / "o" / "a.nc").read_text() == "third"


def test_sigterm_while_writing_leaves_no_temporary_file(tmp_path):
    run_until_sigterm(f"""
        from plumecast.fileio import OutputSet, atomic_path
        with OutputSet({str(tmp_path / "o")!r}, command="t") as out:
            with atomic_path(out.path / "x.nc") as tmp:
                tmp.write_bytes(b"half")
                sigterm_self()
    """)
    assert list(tmp_path.iterdir()) == []


def _cli(args: list[str], cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "80"}
    return subprocess.run([sys.executable, "-m", "plumecast", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, env=env)


def test_run_twice_needs_force(tmp_path):
    (tmp_path / "s.yaml").write_text(RUN)
    r = _cli(["run", "s.yaml", "-o", "out", "-q", "--no-map"], tmp_path)
    assert r.returncode == 0, r.stderr
    assert "written: out/concentration.nc" in r.stdout.replace("\n", "")
    first = json.loads((tmp_path / "out" / MARKER_NAME).read_text())
    assert "concentration.nc" in first["files"] and first["command"] == "run"
    r = _cli(["run", "s.yaml", "-o", "out", "-q", "--no-map"], tmp_path)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "already holds plumecast results" in r.stderr and "--force" in r.stderr
    r = _cli(["run", "s.yaml", "-o", "out", "-q", "--no-map", "--force"], tmp_path)
    assert r.returncode == 0, r.stderr
    assert _leftovers(tmp_path) == []


def test_zones_writes_into_a_named_folder(tmp_path):
    (tmp_path / "z.yaml").write_text(SMALL_ZONES_SCENARIO)
    r = _cli(["zones", "z.yaml"], tmp_path)
    assert r.returncode == 0, r.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plumecast-zones", "z.yaml"]
    assert (tmp_path / "plumecast-zones" / "zones.geojson").is_file()
    assert "wrote plumecast-zones/zones.geojson" in r.stdout
    assert "…" not in r.stdout  # at 80 columns the tables fold their cells, never cut them


BIG = """\
name: interrupt
start: 2026-01-10T00:00:00Z
duration_h: 48
time_step_s: 60
particles: 300000
backend: numba
met: {source: uniform, u_m_s: 5, v_m_s: 1}
turbulence: {kh_m2_s: 5000, kz_m2_s: 30, mixing_height_m: 600}
releases:
  - {type: point, name: tank, lat: 50, lon: 8, rate_kg_s: 1}
output:
  grid: {lon_min: 0, lon_max: 40, lat_min: 40, lat_max: 60, resolution_deg: 0.5}
  interval_min: 120
"""


@pytest.mark.slow
def test_ctrl_c_stops_a_numba_run_within_a_second(tmp_path):
    """One kernel call covers a 120-step output interval here (seconds); Ctrl-C must not wait for it."""
    (tmp_path / "big.yaml").write_text(BIG)
    p = subprocess.Popen([sys.executable, "-m", "plumecast", "run", "big.yaml", "-o", "o", "--no-map", "-q"],
                         cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         preexec_fn=sigint_default)
    t0 = time.monotonic()
    while not glob.glob(str(tmp_path / ".o.plumecast-staging-*")) and time.monotonic() - t0 < 120:
        time.sleep(0.02)
    time.sleep(4.0)  # into the transport loop (particles and winds are set up in about a second)
    assert p.poll() is None, "the run ended before it could be interrupted"
    sent = time.monotonic()
    p.send_signal(signal.SIGINT)
    _, err = p.communicate(timeout=60)
    latency = time.monotonic() - sent
    assert p.returncode == 130
    assert latency < 1.0, f"Ctrl-C took {latency:.2f} s"
    assert "Traceback" not in err
    assert "interrupted (Ctrl-C): no results were written; o was left as it was" in err
    assert sorted(x.name for x in tmp_path.iterdir()) == ["big.yaml"]  # no staging folder, no lock, no set


# ---------------------------------------------------------------- CF compliance (item 7)


def _cf_errors(path: Path, tmp_path: Path) -> str:
    """The CF-1.8 checker's (compliance-checker) report if ``path`` fails at the
    'normal' criteria (errors, not warnings); '' if it passes."""
    from compliance_checker.runner import CheckSuite, ComplianceChecker

    CheckSuite.load_all_available_checkers()
    report = tmp_path / f"{path.name}.txt"
    # (the second value lists the checker's own exceptions, e.g. its monotonicity test
    # failing on string coordinates such as the plan names: not findings about the file)
    passed, _ = ComplianceChecker.run_checker(str(path), ["cf:1.8"], 0, "normal",
                                              output_filename=str(report), output_format="text")
    return "" if passed else report.read_text()


def test_every_netcdf_file_passes_the_cf_checker(tmp_path):
    import numpy as np
    import xarray as xr

    from plumecast.consequence import assess
    from plumecast.ensemble.summary_files import write_probability
    from plumecast.report_tables import write_consequence_table
    from plumecast.runner import run, write_outputs
    from plumecast.scenario import load_scenario

    (tmp_path / "s.yaml").write_text(RUN.replace("rate_kg_s: 1", "rate_kg_s: 50") + textwrap.dedent("""\
        agent: chlorine
        receptors:
          points:
            - {name: close, lat: 50.0, lon: 8.2, population: 5000}
            - {name: far away, lat: 59, lon: 19, population: 1000}
    """))
    sc = load_scenario(tmp_path / "s.yaml")
    result = run(sc)
    files = write_outputs(result, tmp_path)
    assert result.receptor_series is not None and result.receptors is not None
    cons = assess(result.receptor_series, result.agent, result.receptors, start=sc.start64)
    assert np.isnat(cons["first_exceedance_aegl3"].values).any()  # "never" must be encodable too
    assert not np.isnat(cons["first_exceedance_aegl1"].values).all()  # and a time
    files += write_consequence_table(cons, tmp_path)
    import io

    from rich.console import Console

    from plumecast.report_tables import print_casualty_table

    screen = io.StringIO()
    print_casualty_table(cons, Console(file=screen, width=80), now=sc.start64)
    assert "…" not in screen.getvalue()  # 80 columns: cells fold, never cut
    prob = xr.Dataset(
        {"probability": (("plan", "level", "lat", "lon"), np.linspace(0, 1, 2 * 2 * 3 * 4).reshape(2, 2, 3, 4),
                         {"units": "1", "long_name": "fraction of members reaching the AEGL"})},
        coords={"plan": ["do nothing", "evacuate"], "level": ["AEGL-2", "AEGL-3"],
                "lat": ("lat", 40.0 + np.arange(3), {"units": "degrees_north", "standard_name": "latitude"}),
                "lon": ("lon", 1.0 * np.arange(4), {"units": "degrees_east", "standard_name": "longitude"})},
        attrs={"Conventions": "CF-1.8", "members": 20, "title": "test"})
    files.append(write_probability(prob, tmp_path / "exceedance_probability.nc"))
    for f in files:
        if f.suffix == ".nc":
            assert _cf_errors(f, tmp_path) == "", f.name
    with xr.open_dataset(tmp_path / "consequences.nc") as back:  # times still decode to datetimes
        for level in (1, 3):
            name = f"first_exceedance_aegl{level}"
            assert np.array_equal(back[name].values.astype("datetime64[ns]").astype(np.int64),
                                  cons[name].values.astype("datetime64[ns]").astype(np.int64)), name
        assert "history" in back.attrs


def test_deposited_mass_is_cf_and_adds_up_to_the_budget(tmp_path):
    """deposited_mass [kg m-2] per cell and interval passes the CF checker, and times
    the cell areas it holds the budget's deposited mass."""
    import numpy as np
    import xarray as xr

    from plumecast.concentration import OutputGrid
    from plumecast.runner import run, write_outputs
    from plumecast.scenario import load_scenario

    (tmp_path / "s.yaml").write_text(RUN + "deposition: {dry_velocity_m_s: 0.02}\n")
    sc = load_scenario(tmp_path / "s.yaml")
    result = run(sc)
    b = result.budget
    assert b.deposited_dry > 0 and b.deposited_wet == 0  # a uniform wind brings no rain
    assert abs(b.residual) <= 1e-9 * b.released
    files = write_outputs(result, tmp_path)
    assert _cf_errors(files[0], tmp_path) == ""
    with xr.open_dataset(files[0]) as ds:
        area = OutputGrid.from_config(sc.output.grid).cell_area_m2()
        total = float((ds["deposited_mass"].values.astype(np.float64) * area).sum())
        assert total == pytest.approx(b.deposited_dry, rel=1e-5)
        assert ds.attrs["mass_deposited_dry_kg"] == pytest.approx(b.deposited_dry)
        assert "deposition: dry velocity 0.02 m s-1" in ds.attrs["met_provenance"]


def test_a_failing_write_names_the_file_and_leaves_nothing(tmp_path):
    """A full disk or a file size limit: one message naming the output file (not
    the staging folder), exit 2, no traceback, nothing left behind."""
    import resource

    def small_files() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (20_000, 20_000))

    (tmp_path / "s.yaml").write_text(RUN)
    env = {**os.environ, "COLUMNS": "200"}
    r = subprocess.run([sys.executable, "-m", "plumecast", "run", "s.yaml", "-o", "out", "-q", "--no-map"],
                       cwd=tmp_path, capture_output=True, text=True, timeout=300, env=env, preexec_fn=small_files)
    assert r.returncode == 2, r.stderr
    assert "Traceback" not in r.stderr
    assert "out/" in r.stderr and ": could not be written (" in r.stderr and "plumecast-staging" not in r.stderr
    assert not (tmp_path / "out").exists()
    assert _leftovers(tmp_path) == []


def test_atomic_path_tells_file_system_failures_from_program_errors(tmp_path):
    import errno

    from plumecast.fileio import atomic_path

    with pytest.raises(OutputPathError, match=r"x\.nc: could not be written \(No space left on device\)"):
        with atomic_path(tmp_path / "x.nc") as tmp:
            tmp.write_text("part")
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    with pytest.raises(OutputPathError, match=r"x\.nc: could not be written \(NetCDF: HDF error\)"):
        with atomic_path(tmp_path / "x.nc"):
            raise RuntimeError("NetCDF: HDF error")
    with pytest.raises(RuntimeError, match="a bug"):
        with atomic_path(tmp_path / "x.nc"):
            raise RuntimeError("a bug")
    assert list(tmp_path.iterdir()) == []


def test_a_folder_in_the_place_of_an_output_file_leaves_the_folder_as_it_was(tmp_path):
    """--force into a folder holding a sub-folder named like one of the outputs: one clear
    refusal (it was an IsADirectoryError traceback after part of the set had been moved in)."""
    out = tmp_path / "o"
    (out / "b.csv").mkdir(parents=True)
    (out / "notes.txt").write_text("mine")
    with pytest.raises(OutputPathError, match=r"b\.csv there is a folder, where this command writes a file"):
        _set(out, {"a.nc": "new a", "b.csv": "new b"}, force=True)
    assert sorted(p.name for p in out.iterdir()) == ["b.csv", "notes.txt"]  # nothing of the set moved in
    assert _leftovers(tmp_path) == []
