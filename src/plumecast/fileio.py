"""Atomic output files: a failed run never leaves a half-written file behind.

Files are created with the permissions the user's umask gives an ordinary new file
(``0o666 & ~umask``), not the private ``0o600`` of :func:`tempfile.mkstemp`, so the
rest of a response team can read them. The temporary ``.part`` file is removed on
any exception, including ``KeyboardInterrupt`` and the ``SystemExit`` the command
line raises on SIGTERM (:func:`plumecast.cli.common.run_app`).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from plumecast.errors import OutputPathError


def current_umask() -> int:
    """The process's umask (read from /proc where possible, which changes nothing)."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def new_file_mode() -> int:
    """Permission bits of a new ordinary file under the current umask."""
    return 0o666 & ~current_umask()


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; move it into place only on success.

    The temporary file lives in the same directory (so ``os.replace`` is atomic on
    POSIX and Windows), gets the umask's permissions and is removed if the block
    raises (any exception, interrupts included).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp_path: Path | None = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
        tmp_path = Path(tmp)
        os.close(fd)
        os.chmod(tmp_path, new_file_mode())
        yield tmp_path
        if tmp_path.exists():
            os.chmod(tmp_path, new_file_mode())  # a writer may have replaced the file
        os.replace(tmp_path, path)
    except BaseException:
        if tmp_path is not None:
            with contextlib.suppress(FileNotFoundError):
                tmp_path.unlink()
        raise


def write_bytes_atomic(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically; returns the path."""
    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return path


def check_output_dir(path: str | Path, what: str = "output folder") -> Path:
    """Create ``path`` (with its parents) if needed and check that files can be
    written in it, before any work is done.

    Raises
    ------
    OutputPathError
        ``path`` is an existing file, lies under a file, or cannot be created or
        written (permission, read-only file system, missing device); the message
        names the path and the reason.
    """
    p = Path(path)
    if p.exists() and not p.is_dir():
        raise OutputPathError(f"{what} {p}: is an existing file; expected a folder (existing or to be created)")
    anc = p
    while not anc.exists() and anc != anc.parent:
        anc = anc.parent
    if anc.exists() and not anc.is_dir():
        raise OutputPathError(f"{what} {p}: {anc} is a file, so no folder can be created under it; "
                              "expected a path under a folder")
    try:
        p.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=p, prefix=".plumecast-write-check."):
            pass
    except OSError as exc:
        raise OutputPathError(
            f"{what} {p}: cannot write there ({exc.strerror or exc}); expected a folder you can write in"
        ) from None
    return p
