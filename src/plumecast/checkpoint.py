"""Checkpoints of a run, and resuming from them (``plumecast run --checkpoint-h N``,
``plumecast run --resume OUTDIR``).

A checkpoint is everything the transport loop of :func:`plumecast.runner.run`
carries from one output interval to the next: the particles, the interval-mean
fields and receptor exposure so far, the decayed and neutralised mass, the
particle-step count and the step index; with deposition, also the deposited-mass
grid of every output interval so far and the dry and wet deposited totals (the
float64 sums the kernels add to, kept exactly). The met is not kept: the run
re-reads from the met files the records its next kernel call needs
(:class:`plumecast.run_winds.RunWinds` holds no state but that window, whose
values do not depend on how it was filled). The random numbers are counter-based
(they depend only on the seed, the particle index and the step,
:mod:`plumecast.transport.rng`), so there is no generator state to keep, and a run
resumed from a checkpoint makes the same kernel calls with the same inputs as the
uninterrupted run: its results are bitwise identical on the CPU backends.

The state is one ``.npz`` file (plain arrays, no pickles) written atomically to
``OUTDIR/.checkpoint/state.npz``; it holds the scenario as JSON too, so a resumed
run needs nothing but the folder.

The files the scenario names are read again on resume (the receptor CSV, the
population raster, the met files), so the checkpoint also records what the run
started with (format 3, :func:`input_record`): a fingerprint of each of those
files and the receptors themselves (name, position, population, radius). A resume
whose files or receptors differ is refused, naming the file and the receptor:
the particles and the exposure so far belong to the inputs the run started with
(audit: a receptor moved in the CSV kept the exposure of its old place).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from plumecast.errors import DataFileError
from plumecast.fileio import CHECKPOINT_NAME, atomic_path
from plumecast.transport.particles import Particles

__all__ = ["CheckpointWriter", "RunState", "checkpoint_path", "input_record", "load_checkpoint", "save_checkpoint"]

#: 3: records the run's input files and receptors (``inputs``); 2: may hold the deposition
#: state (``d_fields``, ``d_removed``); 1 has none and is still read (a run with deposition
#: then refuses it with one line); 1 and 2 resume without the check of the inputs
FORMAT_VERSION = 3
#: what the near-field sources' provenance lines read of the steps (the wind at each source, the
#: receptors where a plume was held at the pure vapour's density; plumecast.exposure.ExposureSampler),
#: kept so that a resumed run says what an uninterrupted one says, and the emission time up to which
#: each sample point's near-field air has come (``nf_delivered``), so that it breathes what it would
#: (and the near-field air's peaks within the steps and its fronts, for the countdowns: ExposureSampler.peak_extra,
#: part_peak, front_s, part_front_s, nf_air, and the speeds and classes that carried its plume, nf_speeds and
#: nf_classes; the area plumes' peaks, area_peak, area_spot_peak, area_part_peak: plumecast.area_peak; the peaks of
#: the air emitted before the steps' bin edges, for the plans: edge_extra, part_edge, and the area plumes' area_edge,
#: area_spot_edge, area_part_edge; the particles' air within the steps, particle_peak: plumecast.exposure_rings; where
#: a changed weather's plume has air, for the buildings' air, nf_lag and part_lag: plumecast.shelter_lag; the run of
#: each step's carrying wind, nf_run, and its air's shift in a reversal, nf_shift, for the streak line: track_at)
_NOTED = ("source_wind", "capped", "capped_reach_m", "nf_delivered", "nf_track", "peak_extra", "part_peak", "front_s",
          "part_front_s", "nf_air", "nf_speeds", "nf_classes", "area_peak", "area_spot_peak", "area_part_peak",
          "edge_extra", "part_edge", "area_edge", "area_spot_edge", "area_part_edge", "particle_peak", "nf_lag",
          "part_lag", "nf_run", "nf_shift")
_READABLE_VERSIONS = (1, 2, 3)
#: an input file up to this size is hashed whole; a larger one (met files) by its size and
#: :data:`_SAMPLES` blocks of :data:`_BLOCK` bytes spread evenly over it
WHOLE_HASH_BYTES = 64 << 20
_SAMPLES = 16
_BLOCK = 1 << 20
STATE_FILE = "state.npz"
_PARTICLE_FIELDS = ("lon", "lat", "z", "mass", "birth_step", "status")


def checkpoint_path(outdir: str | Path) -> Path:
    """The checkpoint file of an output folder."""
    return Path(outdir) / CHECKPOINT_NAME / STATE_FILE


def file_fingerprint(path: Path) -> dict[str, Any]:
    """The size and SHA-256 of a file: of all of it up to :data:`WHOLE_HASH_BYTES`, of
    :data:`_SAMPLES` blocks spread over it above (a met file of many GB)."""
    size = path.stat().st_size
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        if size <= WHOLE_HASH_BYTES:
            for chunk in iter(lambda: fh.read(_BLOCK), b""):
                h.update(chunk)
        else:
            for k in range(_SAMPLES):
                fh.seek((size - _BLOCK) * k // (_SAMPLES - 1))
                h.update(fh.read(_BLOCK))
    return {"size": size, "sha256": h.hexdigest()}


def input_record(scenario: Any, receptors: Any = None, extent_m: Any = None) -> dict[str, Any]:
    """What a run of ``scenario`` reads besides the scenario itself, as a checkpoint keeps
    it: ``files`` (key -> {path: fingerprint}) for ``receptors.csv``,
    ``receptors.population_raster`` and the met files of ``met.path``; ``receptors``
    (name, lat, lon, population, radius_m of each, as the run selected them; None
    without receptors)."""
    from plumecast.met.files import met_paths

    named: dict[str, list[Path]] = {}
    rc = scenario.receptors
    if rc.csv is not None:
        named["receptors.csv"] = [Path(rc.csv)]
    if rc.population_raster is not None:
        named["receptors.population_raster"] = [Path(rc.population_raster)]
    if scenario.met.source == "file" and scenario.met.path is not None:
        named["met.path"] = met_paths(scenario.met.path)
    files = {key: {str(p): file_fingerprint(p) for p in paths} for key, paths in named.items()}
    table = None
    if receptors is not None and len(receptors):
        table = {"name": [str(n) for n in receptors.name], "lat": [float(v) for v in receptors.lat],
                 "lon": [float(v) for v in receptors.lon], "population": [float(v) for v in receptors.population],
                 "radius_m": [float(v) for v in np.asarray(extent_m, np.float64)]}
    return {"files": files, "receptors": table}


def _same(a: float, b: float) -> bool:
    return a == b or (math.isnan(a) and math.isnan(b))


def _receptor_changes(then: dict[str, Any] | None, now: dict[str, Any] | None) -> list[str]:
    """The receptors that differ between two :func:`input_record` tables, in words."""
    then = then or {"name": [], "lat": [], "lon": [], "population": [], "radius_m": []}
    now = now or {"name": [], "lat": [], "lon": [], "population": [], "radius_m": []}
    out: list[str] = []
    for i in range(min(len(then["name"]), len(now["name"]))):
        name = then["name"][i]
        if now["name"][i] != name:
            out.append(f"receptor {i + 1} was {name!r}, is now {now['name'][i]!r}")
            continue
        if not (_same(then["lat"][i], now["lat"][i]) and _same(then["lon"][i], now["lon"][i])):
            out.append(f"receptor {name!r} was at {then['lat'][i]:g} N {then['lon'][i]:g} E, is now at "
                       f"{now['lat'][i]:g} N {now['lon'][i]:g} E")
        if not _same(then["population"][i], now["population"][i]):
            out.append(f"receptor {name!r} had population {then['population'][i]:g}, now "
                       f"{now['population'][i]:g}")
        if not _same(then["radius_m"][i], now["radius_m"][i]):
            out.append(f"receptor {name!r} had radius {then['radius_m'][i]:g} m, now {now['radius_m'][i]:g} m")
    gone, new = then["name"][len(now["name"]):], now["name"][len(then["name"]):]
    if gone:
        out.append("receptor(s) " + ", ".join(repr(n) for n in gone) + " no longer there")
    if new:
        out.append("receptor(s) " + ", ".join(repr(n) for n in new) + " added")
    return out


def _file_changes(then: dict[str, dict[str, Any]], now: dict[str, dict[str, Any]]) -> list[str]:
    """The input files that differ between two :func:`input_record` file lists, in words."""
    out: list[str] = []
    for key in sorted(set(then) | set(now)):
        a, b = then.get(key, {}), now.get(key, {})
        for path in sorted(set(a) | set(b)):
            if path not in b:
                out.append(f"{path} ({key}) is no longer there")
            elif path not in a:
                out.append(f"{path} ({key}) is new")
            elif a[path] != b[path]:
                out.append(f"{path} ({key}) changed ({a[path].get('size')} bytes then, {b[path].get('size')} now)"
                           if a[path].get("size") != b[path].get("size") else f"{path} ({key}) changed")
    return out


@dataclass
class RunState:
    """The transport loop's state at the end of an output interval (host arrays)."""

    step: int
    particles: Particles
    fields: list[NDArray[np.float32]]
    tag_fields: list[NDArray[np.float32]]
    times: list[np.datetime64]
    decayed: float
    neutralised: float
    particle_steps: int
    exposure: dict[str, NDArray[Any]] = field(default_factory=dict)
    scenario: dict[str, Any] = field(default_factory=dict)
    #: with deposition: the deposited mass of each output interval so far (lat, lon)
    #: [kg m-2], and the [dry, wet] mass removed so far [kg]; None without
    deposited: list[NDArray[np.float32]] | None = None
    removed: NDArray[np.float64] | None = None
    #: the input files and receptors the run started with (:func:`input_record`); None in a
    #: checkpoint written before plumecast recorded them (format 1 and 2)
    inputs: dict[str, Any] | None = None

    @classmethod
    def capture(cls, step: int, particles: Particles, fields: list[Any], tag_fields: list[Any],
                times: list[np.datetime64], decayed: float, neutralised: float, particle_steps: int,
                sampler_x: Any = None, deposited: list[Any] | None = None,
                removed: NDArray[np.float64] | None = None, inputs: dict[str, Any] | None = None) -> RunState:
        """Copy the loop's state (``particles`` on the host) after step ``step``;
        ``deposited`` and ``removed`` only for a run with deposition; ``inputs``: the
        run's :func:`input_record`."""
        exposure: dict[str, NDArray[Any]] = {}
        if sampler_x is not None:
            exposure = {"conc": sampler_x.conc.copy(), "radius_used": sampler_x.radius_used.copy(),
                        "near_hit": sampler_x.near_hit.copy(), "part_c": sampler_x.part_c.copy(),
                        "part_tag": sampler_x.part_tag.copy(), "part_early": sampler_x.part_early.copy(),
                        "spot_extra": sampler_x.spot_extra.copy(), "area_part_c": sampler_x.area_part_c.copy(),
                        **{name: getattr(sampler_x, name).copy() for name in _NOTED}}
        if (deposited is None) != (removed is None):
            raise ValueError("deposited and removed go together: give both (a run with deposition) or neither")
        return cls(step=int(step), particles=particles.copy(), fields=list(fields), tag_fields=list(tag_fields),
                   times=list(times), decayed=float(decayed), neutralised=float(neutralised),
                   particle_steps=int(particle_steps), exposure=exposure,
                   deposited=None if deposited is None else list(deposited),
                   removed=None if removed is None else np.array(removed, dtype=np.float64), inputs=inputs)

    def check_inputs(self, now: dict[str, Any]) -> None:
        """Refuse to resume with other input files or receptors than the run started with
        (``now``: the :func:`input_record` of the resumed run); a checkpoint that has no
        record (format 1, 2) is not checked."""
        if self.inputs is None:
            return
        changes = [*_file_changes(self.inputs.get("files") or {}, now.get("files") or {}),
                   *_receptor_changes(self.inputs.get("receptors"), now.get("receptors"))]
        if changes:
            shown = "; ".join(changes[:6]) + (f"; and {len(changes) - 6} more" if len(changes) > 6 else "")
            raise DataFileError(
                f"checkpoint: the run started with other inputs than it would resume with: {shown}. Its particles "
                "and receptor exposure so far belong to the inputs it started with: put them back as they were, "
                "or start the run again from its scenario file (plumecast run SCENARIO -o OUTDIR)")

    def restore_deposition(self, removed: NDArray[np.float64] | None) -> list[NDArray[np.float32]]:
        """The deposited-mass fields so far, with the [dry, wet] totals put back into
        ``removed`` (the run's accumulator, None when the run has no deposition)."""
        if removed is None:
            if self.removed is not None:
                raise DataFileError("checkpoint: it holds deposited mass, but the run has no deposition; "
                                    "expected a checkpoint of the same scenario")
            return []
        if self.removed is None or self.deposited is None:
            raise DataFileError("checkpoint: it holds no deposited mass (written before plumecast kept it, or by a "
                                "run without deposition), but the run has deposition; rerun from the start")
        if self.removed.shape != removed.shape:
            raise DataFileError(f"checkpoint: deposited totals have shape {self.removed.shape}, expected "
                                f"{removed.shape}; expected a checkpoint of the same scenario")
        if len(self.deposited) != len(self.fields):
            raise DataFileError(f"checkpoint: {len(self.deposited)} deposited-mass fields for {len(self.fields)} "
                                "output intervals; expected a checkpoint of the same scenario")
        if self.deposited and self.fields and self.deposited[0].shape != self.fields[0].shape[-2:]:
            raise DataFileError(f"checkpoint: deposited-mass fields of shape {self.deposited[0].shape}, the "
                                f"output grid {self.fields[0].shape[-2:]}; expected a checkpoint of the same scenario")
        removed[...] = self.removed
        return list(self.deposited)

    def restore_exposure(self, sampler_x: Any) -> None:
        """Put the receptor exposure so far back into a fresh
        :class:`plumecast.exposure.ExposureSampler` of the same run."""
        if sampler_x is None:
            return
        if not self.exposure:
            raise DataFileError("checkpoint: it holds no receptor exposure, but the run has receptors; "
                                "expected a checkpoint of the same scenario")
        for name in ("conc", "radius_used", "near_hit", "part_c", "part_tag", "part_early", "spot_extra",
                     "area_part_c", *_NOTED):
            if (name in ("part_c", "part_tag", "part_early", "spot_extra", "area_part_c") and name not in self.exposure
                    and not getattr(sampler_x, name).size):
                continue  # written before the city discs' parts (spots) were kept, and the run has none
            if name in ("peak_extra", "part_peak") and name not in self.exposure and len(getattr(sampler_x, "near", ())):
                raise DataFileError("checkpoint: written before plumecast kept the near-field plumes' peaks within "
                                    "the steps, which the countdowns of a passing cloud read; rerun from the start")
            if (name in ("edge_extra", "part_edge") and name not in self.exposure and len(getattr(sampler_x, "near", ()))
                    and np.asarray(getattr(sampler_x, "bin_starts", ())).size > 1):
                raise DataFileError("checkpoint: written before plumecast kept the near-field plumes' peaks of the air "
                                    "emitted before each emission-tag edge, which the countdowns of a plan's cut read; "
                                    "rerun from the start")
            if (name in ("area_edge", "area_spot_edge", "area_part_edge") and name not in self.exposure
                    and getattr(getattr(sampler_x, "area", None), "edge_rates", None) is not None):
                raise DataFileError("checkpoint: written before plumecast kept the area plumes' peaks of the air "
                                    "emitted before each emission-tag edge, which the countdowns of a plan's cut read; "
                                    "rerun from the start")
            if (name in ("area_peak", "area_spot_peak", "area_part_peak") and name not in self.exposure
                    and getattr(getattr(sampler_x, "area", None), "peak_cum", None) is not None):
                raise DataFileError("checkpoint: written before plumecast kept the area plumes' peaks within the "
                                    "steps, which the countdowns of a short city release read; rerun from the start")
            if name == "particle_peak" and name not in self.exposure and getattr(sampler_x, "n_sub", 1) > 1:
                raise DataFileError("checkpoint: written before plumecast kept the particles' air within the steps, "
                                    "which the countdowns of a passing cloud read; rerun from the start")
            if name in ("front_s", "part_front_s") and name not in self.exposure:
                # written before the fronts were kept: not known before the resume, so no floor after it (the
                # countdowns the means give, early)
                getattr(sampler_x, name)[...] = -np.inf
                continue
            if name in ("nf_lag", "part_lag") and name not in self.exposure:
                # written before they were kept (session 49): every receptor in the steps before the resume, as the
                # run's changed weather said then (session 48's rule there, early); the steps sampled reset theirs
                getattr(sampler_x, name)[...] = True
                continue
            if name in _NOTED and name not in self.exposure:
                continue  # written before they were kept: the lines they feed miss the steps before the resume
            if name not in self.exposure:
                raise DataFileError(f"checkpoint: it holds no receptor {name}; rerun from the start")
            saved = self.exposure[name]
            current = getattr(sampler_x, name)
            if name == "source_wind" and saved.ndim == 3 and saved.shape[2] == 4 and current.shape[2] == 5:
                # written before the lid was kept (session 28): the dense clouds' lines take the source's own
                saved = np.concatenate([saved, np.full(saved.shape[:2] + (1,), np.nan)], axis=2)
            if saved.shape != current.shape:
                raise DataFileError(f"checkpoint: receptor {name} has shape {saved.shape}, the run "
                                    f"{current.shape}; expected a checkpoint of the same scenario")
            current[...] = saved

    def check_matches(self, n_particles: int, n_steps: int, per_out: int) -> None:
        """Refuse a state that cannot belong to this run."""
        if len(self.particles.lon) != n_particles:
            raise DataFileError(f"checkpoint: {len(self.particles.lon):,} particles, the run {n_particles:,}; "
                                "expected a checkpoint of the same scenario")
        if not (0 < self.step <= n_steps) or (self.step % per_out and self.step != n_steps):
            raise DataFileError(f"checkpoint: step {self.step} is not the end of an output interval of this run "
                                f"({n_steps} steps, {per_out} per output)")


def save_checkpoint(state: RunState, path: str | Path) -> Path:
    """Write ``state`` atomically to ``path`` (an ``.npz`` file)."""
    path = Path(path)
    arrays: dict[str, Any] = {f"p_{k}": getattr(state.particles, k) for k in _PARTICLE_FIELDS}
    if state.fields:
        arrays["fields"] = np.stack(state.fields)
    if state.tag_fields:
        arrays["tag_fields"] = np.stack(state.tag_fields)
    arrays["times"] = np.array(state.times, dtype="datetime64[ns]").astype(np.int64)
    for k, v in state.exposure.items():
        arrays[f"x_{k}"] = v
    if state.removed is not None:
        arrays["d_removed"] = np.asarray(state.removed, dtype=np.float64)
        if state.deposited:
            arrays["d_fields"] = np.stack(state.deposited)
    meta = {"version": FORMAT_VERSION, "step": state.step, "decayed": state.decayed.hex(),
            "neutralised": state.neutralised.hex(), "particle_steps": state.particle_steps,
            "scenario": state.scenario, "inputs": state.inputs}
    arrays["meta"] = np.array(json.dumps(meta, default=str))
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        np.savez(fh, **arrays)
    return path


def load_checkpoint(path: str | Path) -> RunState:
    """Read a checkpoint written by :func:`save_checkpoint`.

    Raises
    ------
    DataFileError
        the file is missing, truncated or not a plumecast checkpoint.
    """
    path = Path(path)
    if not path.is_file():
        raise DataFileError(f"{path}: no checkpoint there; expected a folder written by "
                            "`plumecast run --checkpoint-h N` (OUTDIR/.checkpoint/state.npz)")
    try:
        with np.load(path, allow_pickle=False) as z:
            data = {k: z[k] for k in z.files}
        meta = json.loads(str(data["meta"]))
        parts = Particles(**{k: data[f"p_{k}"] for k in _PARTICLE_FIELDS})
        times: list[Any] = [np.datetime64(int(t), "ns") for t in data["times"]]
        fields: list[Any] = list(data["fields"]) if "fields" in data else []
        tag_fields: list[Any] = list(data["tag_fields"]) if "tag_fields" in data else []
        exposure = {k[2:]: v for k, v in data.items() if k.startswith("x_")}
        if meta.get("version") not in _READABLE_VERSIONS:
            raise ValueError(f"format version {meta.get('version')}, expected one of {_READABLE_VERSIONS}")
        removed = data.get("d_removed")
        deposited: list[Any] | None = None
        if removed is not None:
            deposited = list(data["d_fields"]) if "d_fields" in data else []
        return RunState(step=int(meta["step"]), particles=parts, fields=fields, tag_fields=tag_fields, times=times,
                        decayed=float.fromhex(meta["decayed"]), neutralised=float.fromhex(meta["neutralised"]),
                        particle_steps=int(meta["particle_steps"]), exposure=exposure,
                        scenario=dict(meta.get("scenario") or {}), deposited=deposited, removed=removed,
                        inputs=meta.get("inputs") if isinstance(meta.get("inputs"), dict) else None)
    except (OSError, ValueError, KeyError, TypeError, zipfile.BadZipFile, EOFError) as exc:
        raise DataFileError(f"{path}: not a readable plumecast checkpoint ({exc}); expected the file written "
                            "by `plumecast run --checkpoint-h N`") from None


def checkpoint_brief(path: str | Path) -> str:
    """``'rhine' at +18 h of 24 h``: whose checkpoint ``path`` is and how far its run got,
    from its metadata alone; ``unreadable`` where that cannot be read."""
    try:
        with np.load(Path(path), allow_pickle=False) as z:
            meta = json.loads(str(z["meta"]))
        sc = meta.get("scenario") or {}
        hours = int(meta["step"]) * float(sc["time_step_s"]) / 3600.0
        return f"{sc.get('name', '?')!r} at +{hours:g} h of {float(sc['duration_h']):g} h"
    except (OSError, ValueError, KeyError, TypeError, zipfile.BadZipFile, EOFError):
        return "unreadable"


def scenario_file_changed(state: RunState) -> str | None:
    """The path of the scenario file a checkpointed run was started from, where that file
    has changed since (its edits are not in the checkpoint's scenario, which ``--resume``
    continues); None where it has not, is gone, or was not recorded."""
    rec = (state.inputs or {}).get("scenario_file")
    if not isinstance(rec, dict) or "path" not in rec:
        return None
    path = Path(str(rec["path"]))
    try:
        now = file_fingerprint(path)
    except OSError:
        return None
    return None if now == {"size": rec.get("size"), "sha256": rec.get("sha256")} else str(path)


def checkpoint_every_steps(every_h: float, dt_s: float) -> int:
    """The steps between checkpoints asked ``every_h`` hours apart in a run of ``dt_s``-second steps."""
    return max(1, int(round(every_h * 3600.0 / dt_s)))


def first_checkpoint_step(every_steps: int, start: int, steps_per_output: int) -> int:
    """The step at which :class:`CheckpointWriter` writes its first checkpoint after step ``start``: the end
    of the output interval that reaches ``start + every_steps`` (the run asks :meth:`CheckpointWriter.due`
    at the ends of its output intervals, which fall on multiples of ``steps_per_output``)."""
    return -(-(start + every_steps) // steps_per_output) * steps_per_output


class CheckpointWriter:
    """The runner's checkpoint hook: saves the state every ``every_h`` simulated hours
    (at the end of the output interval that reaches it), never at the end of the run.

    ``scenario`` (a JSON-able dict, :meth:`Scenario.checkpoint_dict`)
    is stored with the state so that ``--resume`` needs only the folder;
    ``on_save(path, sim_hours)`` is told of every checkpoint written.
    """

    def __init__(self, outdir: str | Path, every_h: float, dt_s: float, *, scenario: dict[str, Any] | None = None,
                 on_save: Callable[[Path, float], None] | None = None,
                 scenario_file: Path | dict[str, Any] | None = None) -> None:
        if not (math.isfinite(every_h) and every_h > 0):
            raise ValueError(f"checkpoint interval {every_h!r} h; expected a positive number of hours")
        self.path = checkpoint_path(outdir)
        self.every_steps = checkpoint_every_steps(every_h, dt_s)
        self.dt_s = dt_s
        self.scenario = scenario or {}
        self.on_save = on_save
        self._last = 0
        # the scenario file the run was started from, as it was then: --resume says when it has changed since
        # (a dict: the record of the checkpoint a resumed run continues)
        self.scenario_file = (scenario_file if scenario_file is None or isinstance(scenario_file, dict) else
                              {"path": str(Path(scenario_file).resolve()), **file_fingerprint(Path(scenario_file))})

    def start_at(self, step: int) -> None:
        """Count the next checkpoint from ``step`` (a resumed run)."""
        self._last = step

    def due(self, step: int, n_steps: int) -> bool:
        return step < n_steps and step - self._last >= self.every_steps

    def save(self, state: RunState) -> Path:
        state.scenario = self.scenario
        if self.scenario_file is not None:
            state.inputs = {**(state.inputs or {}), "scenario_file": self.scenario_file}
        try:
            save_checkpoint(state, self.path)
        except BaseException:
            # the first checkpoint failed (a full disk): no empty .checkpoint folder left (outputs audit)
            with contextlib.suppress(OSError):
                self.path.parent.rmdir()  # only if empty: an earlier checkpoint stays
            raise
        self._last = state.step
        if self.on_save is not None:
            self.on_save(self.path, state.step * self.dt_s / 3600.0)
        return self.path
