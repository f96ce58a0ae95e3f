"""Checks of a validated scenario against the run and the machine.

After the pydantic models of :mod:`plumecast.scenario` accept a scenario and its paths
are resolved, :func:`plumecast.scenario.load_scenario` refuses what the models alone
cannot see, naming the file, the key and the line: a run that needs more memory than
the machine has (:func:`memory_estimate`, :func:`available_memory_bytes`), a run in
which no release emits, a decay faster than the time step can follow, a tank its
source model cannot turn into a release profile, a point release outside the winds of
its met file.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from plumecast.errors import ScenarioError
from plumecast.scenario_yaml import located_error, where

if TYPE_CHECKING:
    from plumecast.scenario import Scenario

__all__ = ["BYTES_PER_PARTICLE", "available_memory_bytes", "check_members_memory", "memory_estimate"]


#: Host memory a run needs per particle [bytes]: the 33-byte particle state
#: (:mod:`plumecast.transport.particles`), its release group and the temporaries of
#: the release sampling, rounded up.
BYTES_PER_PARTICLE = 64


def available_memory_bytes() -> int | None:
    """Memory this machine can give a new allocation now [bytes] (Linux MemAvailable,
    else the physical memory); None if unknown."""
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return int(os.sysconf("SC_PHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return None


def memory_estimate(sc: Scenario) -> dict[str, int]:
    """Host memory [bytes] the largest arrays of a run of ``sc`` need, by the key that
    sets their size: ``particles`` and ``output.grid.resolution_deg`` (the output
    fields, one float64 grid per output interval, held twice while the result is
    assembled)."""
    n_out = -(-sc.n_steps // sc.steps_per_output)
    return {
        "particles": sc.particles * BYTES_PER_PARTICLE,
        "output.grid.resolution_deg": sc.output.grid.n_cells * 8 * 2 * (n_out + 2),
    }


def _gib(n: float) -> str:
    """Bytes as two significant figures in MiB, GiB or TiB."""
    from plumecast.numbers import round_sig

    for unit, size in (("TiB", 2**40), ("GiB", 2**30)):
        if n >= size:
            return f"{round_sig(n / size):,.10g} {unit}"
    return f"{round_sig(n / 2**20):,.10g} MiB"


def _check_memory(sc: Scenario, source: str, lines: Mapping[tuple[str | int, ...], int], at_once: int = 1,
                  why: str = "") -> None:
    """Refuse a run whose arrays need more memory than this machine has available now:
    ``at_once`` copies of the run at the same time (the members that run at once;
    ``why``, what runs them, says so in the message)."""
    need = {k: v * at_once for k, v in memory_estimate(sc).items()}
    total = sum(need.values())
    have = available_memory_bytes()
    if have is None or total <= have:
        return
    key = max(need, key=lambda k: need[k])
    line = lines.get(tuple(key.split(".")))
    one = need[key] // at_once
    if key == "particles":
        what = f"particles = {sc.particles:,} need about {_gib(one)} ({BYTES_PER_PARTICLE} bytes each)"
    else:
        g = sc.output.grid
        what = (f"resolution_deg = {g.resolution_deg:g} gives {g.n_cells:,} cells per output field, about "
                f"{_gib(one)} for the {-(-sc.n_steps // sc.steps_per_output):,} output intervals")
    if at_once > 1:
        what += f" per member, and {why} runs {at_once} members at once"
        whole = f"together they need about {_gib(total)}"
    else:
        whole = f"the whole run needs about {_gib(total)}"
    fix = ("reduce particles" if key == "particles" else
           "coarsen resolution_deg, shrink the grid bounds or lengthen output.interval_min")
    fit = int(have // max(total // at_once, 1))  # members that fit at once
    if at_once > 1 and fit >= 1 and why.startswith("--workers"):
        fix += f", or run fewer members at once (--workers {fit}{'' if fit > 1 else ' or 0'})"
    raise ScenarioError(
        f"{source}{f', line {line}' if line else ''}: {key}: {what}; {whole} "
        f"but this machine has {_gib(have)} of memory available; {fix}"
    )


def check_members_memory(sc: Scenario, at_once: int, source: str | None = None,
                         lines: Mapping[tuple[str | int, ...], int] | None = None, *, workers: int | None = None) -> None:
    """Refuse a comparison whose members that run at once on this machine need more memory
    than it has available now: ``at_once`` members (a local cluster of W workers runs
    min(W, members) at once; serially, one). Loading the scenario checked one member
    (:func:`_check_memory`); the members of an external cluster (``--scheduler``) run on its
    workers' machines, which this check cannot see. (It counted one member whatever the
    workers: --workers 2 with 10^7 particles passed with 1 GiB available; audit.)

    Raises
    ------
    ScenarioError
        naming the key, the members at once and what to reduce (``--workers``, particles).
    """
    why = f"--workers {workers}" if workers is not None else "the cluster"
    _check_memory(sc, source or sc.name, lines or {}, max(1, int(at_once)), why)


def _check_emission_in_run(sc: Scenario, source: str, lines: dict[tuple[str | int, ...], int]) -> None:
    """Refuse a scenario in which no release emits during the run, naming the file, the
    release and the key: a release that starts at or after the end of the run, or a
    ``termination_h`` at or before its start. (It failed as 'releases: nothing is emitted
    during the run' without file, line or release, after the progress bar had started;
    audit.) Profile factors of zero are left to the run, which says the same."""
    run_h = float(sc.run_hours)
    key = "duration_h" if sc.duration_h is not None else "end"
    term = sc.termination_h
    why: list[str] = []
    for i, rel in enumerate(sc.releases):
        label = f"release {rel.name!r}" if rel.name else f"releases.{i}"
        if rel.start_h >= run_h:
            why.append(f"{where(source, lines, 'releases', i, 'start_h')}: {rel.start_h:g} h is at or after the end "
                       f"of the run ({key}: {run_h:g} h), so {label} emits nothing and nothing is emitted during "
                       f"the run; expected a start_h before {run_h:g} h, or a longer run")
        elif term is not None and term <= rel.start_h:
            why.append(f"{where(source, lines, 'termination_h')}: {term:g} h stops every release before {label} "
                       f"starts (releases.{i}.start_h {rel.start_h:g} h): nothing is emitted during the run; "
                       f"expected a termination_h after {rel.start_h:g} h, or none")
        else:
            return  # this release emits within the run
    if why:
        more = len(why) - 1
        raise ScenarioError(why[0] + (f" (and the same for {more} other release{'s' if more > 1 else ''})"
                                      if more else ""))


def _check_decay_per_step(sc: Scenario, source: str, lines: dict[tuple[str | int, ...], int]) -> None:
    """Refuse a decay faster than the time step can follow (:data:`plumecast.scenario.MAX_DECAY_PER_STEP`),
    naming ``agent.decay_rate_s`` and the longest time step that would do."""
    from plumecast.scenario import MAX_DECAY_PER_STEP

    k = float(sc.agent.decay_rate_s or 0.0)
    dt = float(sc.time_step_s)
    if not k * dt > MAX_DECAY_PER_STEP:
        return
    given = ("agent", "decay_rate_s") in lines or "decay_rate_s" in sc.agent.from_scenario
    head = (f"{where(source, lines, 'agent', 'decay_rate_s')}: {k:g} s-1 with time_step_s {dt:g} s" if given else
            f"{where(source, lines, 'time_step_s')}: {dt:g} s with agent.decay_rate_s {k:g} s-1")
    raise ScenarioError(
        f"{head} decays the gas by "
        f"exp(-{k * dt:.3g}) within one time step; plumecast follows the decay within a step up to "
        f"decay_rate_s x time_step_s = {MAX_DECAY_PER_STEP:g} (beyond it the mass budget cannot be kept); expected "
        f"a time_step_s of at most {MAX_DECAY_PER_STEP / k:.3g} s (or a smaller decay_rate_s)")


def _check_tanks(sc: Scenario, source: str, lines: dict[tuple[str | int, ...], int]) -> None:
    """Run each tank's source model now (it is cached for the run), so that a tank
    it cannot turn into a release profile is named with its file and line."""
    from plumecast.scenario import PointRelease

    for i, rel in enumerate(sc.releases):
        if isinstance(rel, PointRelease) and rel.tank is not None:
            from plumecast.release import tank_profile

            try:
                tank_profile(sc, i)
            except ScenarioError as exc:
                raise located_error(exc, source, lines) from None


#: the receptor selections found sound (:func:`_check_receptors`), by what they are read from
_RECEPTORS_CHECKED: dict[tuple[Any, ...], None] = {}


def _check_receptors(sc: Scenario, source: str, lines: dict[tuple[str | int, ...], int]) -> None:
    """Select the scenario's receptors now, so that a selection of cities that holds none, a name not found
    or a receptor given twice is named with its file and line before anything runs.

    A selection found sound is not selected again while its CSV file is unchanged (its path, size and
    modification time): an ensemble validates each member's scenario, and a 300,000-row CSV had been read
    for each of them (1 s each; session 39)."""
    from plumecast.scenario_receptors import select_receptors_with_extent

    csv = sc.receptors.csv
    try:
        stat = None if csv is None else Path(csv).stat()
    except OSError:
        stat = None  # the selection below says what is wrong with the file
    key = (sc.receptors.model_dump_json(), None if stat is None else (stat.st_size, stat.st_mtime_ns))
    if key in _RECEPTORS_CHECKED and (csv is None or stat is not None):
        return
    try:
        select_receptors_with_extent(sc)
    except ScenarioError as exc:
        if not str(exc).startswith("receptors."):
            raise
        raise located_error(exc, source, lines) from None
    if len(_RECEPTORS_CHECKED) >= 64:
        _RECEPTORS_CHECKED.clear()
    _RECEPTORS_CHECKED[key] = None


def missing_run_keys(data: dict[str, Any], source: str) -> str:
    """Lines to add to the schema's errors of a scenario ``data`` that lacks ``start``: ``duration_h`` (or
    ``end``) when it lacks that too (the schema's check of it runs only once ``start`` is there), and, for a
    file with ``local_weather`` or ``zones`` and none of the run's times, that it reads as a file for
    ``plumecast zones`` (examples/graniteville_2005.yaml had been answered "start: required key is missing"
    alone; badinput audit, session 43). "" when ``start`` is given."""
    if "start" in data:
        return ""
    out = ""
    if "duration_h" not in data and "end" not in data:
        out += (f"\n  {source}: duration_h: required key is missing (how long the run lasts [h]; or end: the date "
                "and time it ends)")
    local = [k for k in ("local_weather", "zones") if k in data]
    if local and "duration_h" not in data and "end" not in data:
        out += (f"\n  {source} has {' and '.join(local)} but none of the keys of a run (start, duration_h or "
                f"end): it reads as a scenario for `plumecast zones`; run it with `plumecast zones {source}`. For "
                "`plumecast run` or `compare` add start (the date and time of the release, with its zone), duration_h "
                "(or end) and met (the winds; without it the monthly mean winds of the climatology, not a forecast) "
                "(docs/scenario.md)")
    return out


def _check_cities_in_met_domain(sc: Scenario, i: int, rel: Any, lat: Any, lon: Any, source: str,
                                lines: dict[tuple[str | int, ...], int]) -> None:
    """A city release whose cities lie outside the winds of a met file, refused as a point release is: their
    gas would leave the domain at once (Japanese cities on a European file had run, every kilogram 'exited';
    met audit, session 40)."""
    from plumecast.met.reader import inside_wind_domain
    from plumecast.release import select_cities

    cities = select_cities(rel, i)
    c_lat, c_lon = np.asarray(cities.lat, float), np.asarray(cities.lon, float)
    out = [k for k in range(c_lat.size) if not inside_wind_domain(lat, lon, float(c_lat[k]), float(c_lon[k]))]
    if not out:
        return
    line = lines.get(("releases", i))
    names = np.asarray(cities.name)
    shown = ", ".join(f"{names[k]} (lat {c_lat[k]:g}, lon {c_lon[k]:g})" for k in out[:3])
    raise ScenarioError(
        f"{source}{f', line {line}' if line else ''}: releases.{i}{f' ({rel.name})' if rel.name else ''}: "
        f"{len(out)} of its {c_lat.size} cities lie outside the winds of met.path {_paths_text(sc.met.path)} "
        f"(lat {lat.min():g}..{lat.max():g}, lon {lon.min():g}..{lon.max():g}): {shown}"
        f"{' ...' if len(out) > 3 else ''}; expected a met file whose domain contains every release (or narrow "
        "the cities with bbox, countries or names)")


def _paths_text(path: Any) -> str:
    """``met.path`` as a person writes it: one path, or the paths joined by commas."""
    if isinstance(path, list | tuple):
        return ", ".join(str(p) for p in path)
    return str(path)


def _check_releases_in_met_domain(sc: Scenario, source: str, lines: dict[tuple[str | int, ...], int]) -> None:
    """A point release outside the winds of a met file would leave the domain at once
    and give an all-clear: refuse it, naming the release and the file's domain."""
    from plumecast.met.reader import inside_wind_domain, wind_file_domain
    from plumecast.scenario import CityRelease, PointRelease

    assert sc.met.path is not None
    lat, lon = wind_file_domain(sc.met.path, level_hpa=sc.met.level_hpa)
    for i, rel in enumerate(sc.releases):
        if isinstance(rel, CityRelease):
            _check_cities_in_met_domain(sc, i, rel, lat, lon, source, lines)
            continue
        if not isinstance(rel, PointRelease):
            continue
        if not inside_wind_domain(lat, lon, rel.lat, rel.lon):
            line = lines.get(("releases", i))
            name = f" ({rel.name})" if rel.name else ""
            raise ScenarioError(
                f"{source}{f', line {line}' if line else ''}: releases.{i}{name} at lat {rel.lat:g}, lon {rel.lon:g} "
                f"is outside the winds of met.path {_paths_text(sc.met.path)} (lat {lat.min():g}..{lat.max():g}, "
                f"lon {lon.min():g}..{lon.max():g}); expected a met file whose domain contains every release"
                + (" (a release on the 180th meridian is at -180 for the transport, off a grid that ends at 180 E: "
                   "give lon 179.99)" if abs(rel.lon) == 180.0 and float(lon.max()) == 180.0 else "")
            )
