"""The dashboard's web application (FastAPI).

Read-only by construction: every route is GET/HEAD (anything else is answered
405 before routing), the only files read are the package's own static files
(a fixed list) and result files inside the folder given at start, resolved and
checked to stay inside it (``..``, percent-encoded separators, absolute paths and
symlinks that lead out are refused). Requests whose ``Host`` is not the address
served are refused (DNS rebinding). A folder that is empty, half-written or
malformed gives a page saying what is missing, not a server error.
"""

from __future__ import annotations

import asyncio
import html
import json
import logging
import mimetypes
import time
from collections.abc import Callable
from importlib import resources
from pathlib import Path, PurePosixPath
from typing import Any

from plumecast.errors import DataFileError
from plumecast.web import loader, views
from plumecast.web.cities import search_cities
from plumecast.web.encode import clean
from plumecast.web.live import live_signature, read_live

try:
    from fastapi import FastAPI, Request
    from fastapi.responses import (
        HTMLResponse,
        JSONResponse,
        PlainTextResponse,
        Response,
        StreamingResponse,
    )
    from starlette.datastructures import Headers, MutableHeaders
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError("plumecast's dashboard needs FastAPI and uvicorn: pip install 'plumecast[web]'") from exc

log = logging.getLogger("plumecast.web")

ALLOWED_METHODS = ("GET", "HEAD")
#: The package's static files, by the name they are served under.
STATIC = {"app.js": "text/javascript", "core.js": "text/javascript", "monitors.js": "text/javascript",
          "plans.js": "text/javascript", "numbers.js": "text/javascript", "style.css": "text/css",
          "index.html": "text/html", "LICENSE.txt": "text/plain"}
#: Result files that may be downloaded, by suffix.
RESULT_SUFFIXES = {".png": "image/png", ".gif": "image/gif", ".csv": "text/csv", ".nc": "application/x-netcdf",
                   ".md": "text/markdown", ".html": "text/html", ".json": "application/json",
                   ".txt": "text/plain", ".mp4": "video/mp4"}
CSP = ("default-src 'self'; img-src 'self' data: blob:; style-src 'self'; script-src 'self'; "
       "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1", "[::1]")
#: How often the event stream looks at the folder, and how long one stream lasts. [s]
SSE_POLL_S = 0.5
SSE_MAX_S = 1800.0
SSE_HEARTBEAT_S = 15.0


class Refused(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def static_text(name: str) -> bytes:
    return resources.files("plumecast.web").joinpath("static", name).read_bytes()


def resolve_result_file(root: Path, relpath: str) -> Path:
    """The file ``relpath`` names inside ``root``, or :class:`Refused`.

    Refused (403): empty names, NUL or backslash, absolute paths, ``.``/``..``
    components, hidden files (``.name``, which includes half-written ``.part``
    files), suffixes outside :data:`RESULT_SUFFIXES`, and anything that resolves
    (following symlinks) outside ``root``, whether or not it exists there (a 404
    would tell what exists outside the folder). Missing files inside ``root``: 404.
    """
    if not relpath or "\x00" in relpath or "\\" in relpath or len(relpath) > 512:
        raise Refused(403, "refused: not a plain relative file name")
    pure = PurePosixPath(relpath)
    if pure.is_absolute() or relpath.startswith("/"):
        raise Refused(403, "refused: absolute paths are not served")
    if any(part in ("", ".", "..") or part.startswith(".") for part in relpath.split("/")):
        raise Refused(403, "refused: '.', '..' and hidden names are not served")
    if pure.suffix.lower() not in RESULT_SUFFIXES:
        raise Refused(403, f"refused: only result files ({', '.join(sorted(RESULT_SUFFIXES))}) are served")
    base = root.resolve()
    candidate = base.joinpath(*pure.parts)
    try:
        # where the path leads, following every link, whether or not its end exists
        real = candidate.resolve(strict=False)
    except (OSError, RuntimeError):
        raise Refused(403, "refused: the path cannot be resolved") from None
    if not real.is_relative_to(base):
        raise Refused(403, "refused: the path leads outside the result folder")
    try:
        real = candidate.resolve(strict=True)
    except (FileNotFoundError, NotADirectoryError):
        raise Refused(404, f"{relpath}: no such result file") from None
    except (OSError, RuntimeError):
        raise Refused(403, "refused: the path cannot be resolved") from None
    if not real.is_relative_to(base):  # changed between the two looks
        raise Refused(403, "refused: the path leads outside the result folder")
    if not real.is_file():
        raise Refused(404, f"{relpath}: not a file")
    return real


class Guard:
    """ASGI middleware: GET/HEAD only (405 otherwise), known ``Host`` only (421
    otherwise, against DNS rebinding), security headers on every answer."""

    def __init__(self, app: Any, hosts: set[str]) -> None:
        self.app = app
        self.hosts = hosts

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["method"] not in ALLOWED_METHODS:
            await PlainTextResponse("read-only dashboard: only GET and HEAD are accepted\n", status_code=405,
                                    headers={"Allow": "GET, HEAD"})(scope, receive, send)
            return
        host = Headers(scope=scope).get("host", "").lower()
        name = host if host.endswith("]") else host.rsplit(":", 1)[0]
        if name not in self.hosts and "*" not in self.hosts:
            await PlainTextResponse(f"refused: Host {host!r} is not served here\n", status_code=421)(
                scope, receive, send)
            return

        async def send_with_headers(message: Any) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("Content-Security-Policy", CSP)
                headers.setdefault("X-Content-Type-Options", "nosniff")
                headers.setdefault("Referrer-Policy", "no-referrer")
                headers.setdefault("Cache-Control", "no-cache")
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _problem_page(title: str, items: list[str], status: int = 200, refresh: bool = True) -> HTMLResponse:
    lis = "".join(f"<li>{html.escape(i)}</li>" for i in items)
    meta = '<meta http-equiv="refresh" content="5">' if refresh else ""
    body = (f"<!doctype html><html lang=en><head><meta charset=utf-8>{meta}<title>plumecast: {html.escape(title)}"
            "</title><link rel=stylesheet href=/static/style.css></head><body class=problem-page>"
            f"<h1>{html.escape(title)}</h1><ul id=problems>{lis}</ul>"
            "<p>This page looks again every 5 s. The dashboard reads the folder only; it never changes it.</p>"
            "</body></html>")
    return HTMLResponse(body, status_code=status)


def content_disposition(name: str) -> str:
    """``inline`` with the file's name as RFC 6266 gives it: an ASCII fallback and the UTF-8 name (RFC 5987).
    A plan named in Cyrillic gives ``probability_aegl3_евакуація.png``, which a header of Latin-1 cannot
    carry: the link had answered 500 (situation-room audit, session 40).

    >>> print(content_disposition("план.png"))
    inline; filename="____.png"; filename*=UTF-8''%D0%BF%D0%BB%D0%B0%D0%BD.png
    """
    from urllib.parse import quote

    fallback = "".join(ch if 32 <= ord(ch) < 127 and ch not in '"\\' else "_" for ch in name)
    if fallback == name:
        return f'inline; filename="{name}"'
    return f"inline; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


def create_app(folder: str | Path, *, allowed_hosts: list[str] | None = None) -> FastAPI:
    """The dashboard for the result folder ``folder``.

    Parameters
    ----------
    folder : a ``run``/``demo``/``compare`` output folder (it may still be empty
        while a run writes it).
    allowed_hosts : ``Host`` header values accepted (without port). Default: the
        loopback names; :func:`plumecast.web.server.serve` adds the address it binds.
    """
    root = Path(folder)
    if not root.is_dir():
        raise DataFileError(f"{root}: not a folder; expected the output folder of plumecast run, demo or compare")
    data = loader.Folder(root)
    hosts = {h.lower() for h in (allowed_hosts or LOCAL_HOSTS)}
    app = FastAPI(title="plumecast situation room", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.folder = data
    app.state.closing = False  # set by the server on shutdown: event streams end

    app.add_middleware(Guard, hosts=hosts)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:  # never a bare 500: say what happened
        log.exception("dashboard request failed")
        return PlainTextResponse(f"the dashboard could not answer: {type(exc).__name__}: {exc}\n"
                                 "(this is a bug in plumecast; the result files are unchanged)\n", status_code=500)

    @app.exception_handler(loader.FolderProblem)
    async def folder_problem(request: Request, exc: loader.FolderProblem) -> Response:
        return JSONResponse({"error": str(exc)}, status_code=404)

    @app.exception_handler(Refused)
    async def refused(request: Request, exc: Refused) -> Response:
        return PlainTextResponse(exc.message + "\n", status_code=exc.status)

    def snapshot() -> loader.Snapshot:
        return data.snapshot()

    @app.api_route("/", methods=["GET", "HEAD"], response_model=None)
    def index() -> Response:
        snap = snapshot()
        live = read_live(data.root)
        if not snap.usable and live is None:
            # say why: a comparison's or run's unreadable file, not only "no results"
            problems = views.summary(snap, None)["problems"]
            return _problem_page("No results to show yet", problems or ["the folder holds no results"])
        return HTMLResponse(static_text("index.html"))

    @app.api_route("/static/{name}", methods=["GET", "HEAD"])
    def static(name: str) -> Response:
        if name not in STATIC:
            raise Refused(404, f"/static/{name}: no such file")
        return Response(static_text(name), media_type=STATIC[name], headers={"Cache-Control": "no-cache"})

    @app.api_route("/favicon.ico", methods=["GET", "HEAD"])
    def favicon() -> Response:
        return Response(status_code=204)

    @app.api_route("/healthz", methods=["GET", "HEAD"])
    def healthz() -> Response:
        return PlainTextResponse("ok\n")

    @app.api_route("/api/summary", methods=["GET", "HEAD"])
    def api_summary() -> Response:
        snap = snapshot()
        base = snap.cached("summary", lambda: views.summary(snap, None))
        return JSONResponse(base | {"live": clean(read_live(data.root))})

    @app.api_route("/api/geo", methods=["GET", "HEAD"])
    def api_geo() -> Response:
        return JSONResponse(views.geo_paths(), headers={"Cache-Control": "max-age=3600"})

    def tagged(request: Request, key: str, media_type: str, body: Callable[[loader.Snapshot], bytes]) -> Response:
        """``body(snapshot)`` with an ETag for the folder's state and ``key``; 304 (no body)
        when the client already holds that version."""
        snap = snapshot()
        tag = snap.cached(f"etag/{key}", lambda: '"' + format(abs(hash((snap.signature, key))) % (1 << 60), "x") + '"')
        if request.headers.get("if-none-match") == tag:
            return Response(status_code=304, headers={"ETag": tag})
        return Response(body(snap), media_type=media_type, headers={"ETag": tag})

    @app.api_route("/api/view/{vid}", methods=["GET", "HEAD"])
    def api_view(vid: str, request: Request) -> Response:
        return tagged(request, vid, "application/json", lambda snap: snap.cached(
            f"view/{vid}", lambda: json.dumps(views.view_json(snap, vid)).encode("utf-8")))

    @app.api_route("/api/view/{vid}/frame/{k}", methods=["GET", "HEAD"])
    def api_frame(vid: str, k: int, request: Request) -> Response:
        return tagged(request, f"{vid}/frame/{k}", "application/octet-stream",
                      lambda snap: views.frame_bytes(snap, vid, k))

    @app.api_route("/api/view/{vid}/layer/{name}", methods=["GET", "HEAD"])
    def api_layer(vid: str, name: str, request: Request) -> Response:
        return tagged(request, f"{vid}/layer/{name}", "application/octet-stream",
                      lambda snap: views.layer_bytes(snap, vid, name))

    @app.api_route("/api/view/{vid}/receptor/{i}", methods=["GET", "HEAD"])
    def api_receptor(vid: str, i: int) -> Response:
        return JSONResponse(views.receptor_series(snapshot(), vid, i))

    @app.api_route("/api/view/{vid}/point", methods=["GET", "HEAD"])
    def api_point(vid: str, lat: float, lon: float, name: str = "") -> Response:
        return JSONResponse(views.point_series(snapshot(), vid, lat, lon, name[:100]))

    @app.api_route("/api/search", methods=["GET", "HEAD"])
    def api_search(q: str = "", view: str = "run") -> Response:
        snap = snapshot()
        receptors: list[dict[str, Any]] = []
        if view in snap.views:
            receptors = snap.cached(f"receptors/{view}", lambda: views.view_json(snap, view)["receptors"])
        return JSONResponse({"query": q[:100], "results": search_cities(q[:100], receptors)})

    @app.api_route("/api/live", methods=["GET", "HEAD"])
    async def api_live(request: Request, once: bool = False) -> Response:
        async def events() -> Any:
            t0 = time.monotonic()
            last_live: Any = ()
            last_sig: Any = None
            beat = time.monotonic()
            while time.monotonic() - t0 < SSE_MAX_S and not request.app.state.closing:
                sig = live_signature(data.root)
                if sig != last_live:
                    last_live = sig
                    yield f"event: progress\ndata: {json.dumps(read_live(data.root))}\n\n"
                    beat = time.monotonic()
                folder_sig = await asyncio.to_thread(lambda: snapshot().signature)
                if last_sig is not None and folder_sig != last_sig:
                    yield "event: folder\ndata: {}\n\n"
                    beat = time.monotonic()
                last_sig = folder_sig
                if once:
                    return
                if time.monotonic() - beat > SSE_HEARTBEAT_S:
                    yield ": heartbeat\n\n"
                    beat = time.monotonic()
                if await request.is_disconnected():
                    return
                await asyncio.sleep(SSE_POLL_S)

        return StreamingResponse(events(), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})

    @app.api_route("/files/{relpath:path}", methods=["GET", "HEAD"])
    def files(relpath: str) -> Response:
        real = resolve_result_file(data.root, relpath)
        media = RESULT_SUFFIXES.get(real.suffix.lower()) or mimetypes.guess_type(real.name)[0] or "text/plain"
        headers = {"Content-Security-Policy": "sandbox", "Content-Disposition": content_disposition(real.name)}
        if real.stat().st_size > 512 * 1024 * 1024:
            raise Refused(403, "refused: file larger than 512 MiB")
        return Response(real.read_bytes(), media_type=media, headers=headers)

    @app.api_route("/{rest:path}", methods=["GET", "HEAD"])
    def not_found(rest: str) -> Response:
        return PlainTextResponse(f"/{rest[:200]}: not part of the dashboard\n", status_code=404)

    return app
