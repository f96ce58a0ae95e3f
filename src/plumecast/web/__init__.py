"""The situation room: a read-only web dashboard for a run or a comparison.

``plumecast serve OUTDIR`` (extra ``[web]``: FastAPI + uvicorn) serves the page in
``static/`` (plain JavaScript and SVG, no network access beyond this server) and
the JSON/binary endpoints of :mod:`plumecast.web.app`, built by
:mod:`plumecast.web.loader` and :mod:`plumecast.web.views` from the folder's
files. See docs/web.md.

Importing this package does not import FastAPI; :mod:`plumecast.web.app` and
:mod:`plumecast.web.server` do, and fail with an install hint without it.
"""

from __future__ import annotations

from plumecast.web.loader import Folder, FolderProblem

__all__ = ["Folder", "FolderProblem"]
