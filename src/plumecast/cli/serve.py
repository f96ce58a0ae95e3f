"""``plumecast serve``: the situation-room dashboard of a result folder."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from plumecast.cli.common import console, kept

WEB_EXTRA_HINT = "the dashboard needs the [web] extra: pip install 'plumecast[web]' (FastAPI and uvicorn)"


def require_web() -> None:
    """Fail with one clear message when FastAPI/uvicorn are missing."""
    import importlib.util

    from plumecast.errors import PlumecastError

    missing = [m for m in ("fastapi", "uvicorn") if importlib.util.find_spec(m) is None]
    if missing:
        raise PlumecastError(f"{', '.join(missing)} not installed: {WEB_EXTRA_HINT}")


def register(app: typer.Typer) -> None:
    @app.command("serve")
    def serve_command(
        outdir: Annotated[Path, typer.Argument(help="a folder written by plumecast run, demo or compare")],
        host: Annotated[str, typer.Option(help="address to listen on; the default serves this machine only")] = "127.0.0.1",
        port: Annotated[int, typer.Option(min=0, max=65535, help="TCP port (0: any free port)")] = 8765,
        wait: Annotated[bool, typer.Option("--wait", help="serve OUTDIR even if it holds no results yet (a run elsewhere will write them); the page says what is missing until then")] = False,
    ) -> None:
        """Serve the dashboard of OUTDIR (read-only): map with time slider, city monitors with
        countdowns, plans side by side, live progress while a run writes the folder.

        Needs the web extra: pip install "plumecast\\[web]" (FastAPI and uvicorn)."""
        from plumecast.errors import DataFileError

        require_web()
        if not outdir.is_dir():
            raise DataFileError(f"{outdir}: not a folder; expected the output folder of plumecast run, demo or compare")
        from plumecast.web.loader import not_a_result_folder

        why = None if wait else not_a_result_folder(outdir)
        if why:
            raise DataFileError(why)
        from plumecast.web.server import serve_forever

        # what a stop says was kept: the server reads the folder and writes nothing (it had said "half-written
        # files were removed"; web audit)
        kept["serve"] = f"the dashboard server stopped; it writes nothing, {outdir} is as it was"
        serve_forever(outdir, host=host, port=port, announce=lambda s: console.print(s, highlight=False))
