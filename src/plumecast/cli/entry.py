"""The ``plumecast`` script's entry point (``python -m plumecast`` too).

SIGTERM while the commands' modules load (numpy, xarray, numba: a few seconds) is one
line and status 143, as Ctrl-C then is (:func:`plumecast.cli._starting_interrupted`):
the interpreter's default had ended the process without a word (outputs audit, session
30). :func:`plumecast.cli.common.run_app` installs the command's own handler once they
are loaded. Set here, not in :mod:`plumecast.cli`, which library code and tests import.
"""

from __future__ import annotations

import os
import signal
import sys
from typing import Any


def _terminated_starting(signum: int, frame: Any) -> None:
    sys.stderr.write("terminated (SIGTERM) while plumecast was starting: nothing was written\n")
    sys.stderr.flush()
    os._exit(128 + signum)


def main() -> None:
    """Entry point of the ``plumecast`` script."""
    signal.signal(signal.SIGTERM, _terminated_starting)
    from plumecast.cli import main as run_main

    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # loaded: the command's own handler from here on (run_app)
    run_main()
