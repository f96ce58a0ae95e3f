"""Interrupting a checkpointed ``plumecast run`` names the folder ``--resume`` accepts.

The output set is written to a staging folder beside OUTDIR; the message kept for
Ctrl-C/SIGTERM must name OUTDIR itself (where the checkpoint is), never the staging
folder (``_execute_into`` rebinds ``outdir`` to it after defining the callback).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import plumecast.runner
from plumecast.cli import global_run
from plumecast.cli.common import kept
from plumecast.scenario import scenario_from_dict

SCENARIO = {
    "name": "resume message",
    "start": "2026-01-10T00:00:00Z",
    "duration_h": 4,
    "time_step_s": 600,
    "particles": 100,
    "seed": 1,
    "agent": "chlorine",
    "met": {"source": "uniform", "u_m_s": 4, "v_m_s": 1},
    "turbulence": {"kh_m2_s": 3000, "kz_m2_s": 20, "mixing_height_m": 800},
    "releases": [{"type": "point", "lat": 50, "lon": 8, "rate_kg_s": 2, "stop_h": 1}],
    "output": {"grid": {"lon_min": 4, "lon_max": 16, "lat_min": 46, "lat_max": 56, "resolution_deg": 0.5},
               "interval_min": 60},
}


class _Interrupted(Exception):
    pass


def test_interrupted_checkpointed_run_names_the_output_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sc = scenario_from_dict(SCENARIO, source="test")
    outdir = tmp_path / "results"
    seen: dict[str, Any] = {}

    def fake_run(scenario: Any, *, progress: Any = None, checkpoint: Any = None, resume_from: Any = None) -> Any:
        # the runner saved a checkpoint at +2 h, then the user pressed Ctrl-C
        seen["checkpoint_path"] = checkpoint.path
        checkpoint.on_save(checkpoint.path, 2.0)
        raise _Interrupted

    monkeypatch.setattr(plumecast.runner, "run", fake_run)
    kept.clear()
    try:
        with pytest.raises(_Interrupted):
            global_run.execute(sc, outdir, title="t", map_png=False, quiet=True, checkpoint_h=2.0)
        message = kept.get("checkpoint", "")
    finally:
        kept.clear()
    assert f"`plumecast run --resume {outdir}`" in message, message
    assert Path(seen["checkpoint_path"]).is_relative_to(outdir)  # the checkpoint itself is in OUTDIR too
