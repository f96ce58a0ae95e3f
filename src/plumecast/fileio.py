"""Atomic output files: a failed run never leaves a half-written file behind.

Files are created with the permissions the user's umask gives an ordinary new file
(``0o666 & ~umask``), not the private ``0o600`` of :func:`tempfile.mkstemp`, so the
rest of a response team can read them. The temporary ``.part`` file is removed on
any exception, including ``KeyboardInterrupt`` and the ``SystemExit`` the command
line raises on SIGTERM (:func:`plumecast.cli.common.run_app`).
"""

from __future__ import annotations

import contextlib
import errno
import fnmatch
import os
import re
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
    except BaseException as exc:
        if tmp_path is not None:
            with contextlib.suppress(FileNotFoundError):
                tmp_path.unlink()
        if _write_failure(exc):
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            raise OutputPathError(f"{_final_name(path)}: could not be written ({reason}); expected a folder with room to "
                                  "write in (a full disk or a file size limit?); nothing was left half-written"
                                  ) from exc
        raise


#: An OutputSet's staging folder beside ``folder`` is ``.<folder>.<STAGING_INFIX><random>``.
STAGING_INFIX = "plumecast-staging-"


def _final_name(path: Path) -> Path:
    """``path`` as the user will know it: in an :class:`OutputSet`'s staging folder,
    the same file in the output folder."""
    m = re.match(rf"^\.(.+)\.{re.escape(STAGING_INFIX)}", path.parent.name)
    return path.parent.parent / m.group(1) / path.name if m else path


def _write_failure(exc: BaseException) -> bool:
    """A failure of the file system (full disk, file size limit, I/O error), not of
    the program: an OSError, or the netCDF library's RuntimeError for the same."""
    if isinstance(exc, OSError):
        return True
    return isinstance(exc, RuntimeError) and str(exc).startswith(("NetCDF:", "HDF"))


def write_bytes_atomic(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically; returns the path."""
    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return path


def _no_file_in_the_way(p: Path, what: str) -> None:
    if p.exists() and not p.is_dir():
        raise OutputPathError(f"{what} {p}: is an existing file; expected a folder (existing or to be created)")
    anc = p
    while not anc.exists() and anc != anc.parent:
        anc = anc.parent
    if anc.exists() and not anc.is_dir():
        raise OutputPathError(f"{what} {p}: {anc} is a file, so no folder can be created under it; "
                              "expected a path under a folder")


def check_output_dir(path: str | Path, what: str = "output folder", target: str | Path | None = None) -> Path:
    """Create ``path`` (with its parents) if needed and check that files can be
    written in it, before any work is done.

    ``target``: the folder the user asked for, named in the messages when ``path`` is
    its parent (checked first, to hold the staging folder).

    Raises
    ------
    OutputPathError
        ``path`` is an existing file, lies under a file, or cannot be created or
        written (permission, read-only file system, missing device); the message
        names the path, the folder it cannot be created in and the reason.
    """
    p = Path(path)
    shown = p if target is None else Path(target)
    _no_file_in_the_way(p, what)
    base = p
    while not base.exists() and base != base.parent:
        base = base.parent  # the folder that exists, in which the rest is to be created
    try:
        p.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=p, prefix=".plumecast-write-check."):
            pass
    except OSError as exc:
        reason = exc.strerror or str(exc)
        if exc.errno == errno.ENOENT and base.is_dir():
            # /proc exists, yet the system answers "No such file or directory" for a new file in it: that
            # answer named /proc as missing (badinput audit, session 43)
            reason = f"its file system takes no new files or folders; the system's error: {reason}"
        where = (f"cannot write in {p}" if base == p and shown == p else
                 f"the folder cannot be created in {base}")
        raise OutputPathError(f"{what} {shown}: {where} ({reason}); expected a folder you can write in") from None
    return p


# --------------------------------------------------------------------------- output sets

#: The file in an output folder that lists the set of results plumecast wrote there.
MARKER_NAME = ".plumecast-results.json"
#: Checkpoints of ``plumecast run --checkpoint-h`` (kept in the output folder itself).
CHECKPOINT_NAME = ".checkpoint"
#: Files plumecast writes into the output folder itself while a command runs
#: (``plumecast.web.live.LIVE_FILE``: the live progress a dashboard shows); carried
#: into the new set when it is moved into place.
TRANSIENT_NAMES = ("live.json",)
_RENAME_EXCHANGE = 2  # linux/fs.h
#: Files (glob patterns) and folders that ``run``, ``demo`` and ``compare`` write: those of them a
#: new set leaves beside itself (results of an earlier command without a marker that lists them)
#: are named in :attr:`OutputSet.left_results`, so that ``--force`` can say it kept them.
RESULT_PATTERNS = ("concentration.nc", "consequences.nc", "consequences.csv", "receptors.csv", "front_arrival.nc",
                   "dashboard.json", "concentration_map.png", "concentration_animation.gif", "people_above_aegl.csv",
                   "decision_table.*", "cities.csv", "cost_of_delay.*", "exceedance_probability.nc",
                   "comparison.json", "members.csv", "member_values.nc", "probability_*.png", "plans")


def _exchange(a: Path, b: Path) -> bool:
    """Swap two directories atomically (Linux ``renameat2(RENAME_EXCHANGE)``); False
    where the system cannot (then the caller swaps with two renames)."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        fn = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd = -100
    rc = fn(at_fdcwd, os.fsencode(str(a)), at_fdcwd, os.fsencode(str(b)), _RENAME_EXCHANGE)
    return bool(rc == 0)


def read_marker(folder: Path) -> dict[str, object] | None:
    """The marker of the plumecast results in ``folder`` (command, created, files), or None."""
    import json

    try:
        data = json.loads((folder / MARKER_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _carry_transients(src: Path, dst: Path) -> None:
    """Move the live-progress file of a running command into the new set."""
    for name in TRANSIENT_NAMES:
        with contextlib.suppress(FileNotFoundError):
            os.replace(src / name, dst / name)


def _is_cwd(folder: Path) -> bool:
    """Whether ``folder`` is the current folder of this process."""
    try:
        return os.path.samefile(folder, os.getcwd())
    except OSError:
        return False


class OutputSet:
    """Write a command's outputs as one complete set, or not at all.

    ``with OutputSet(folder, command="run", force=False) as out:`` gives
    ``out.path``, a staging folder beside ``folder`` (same file system, so the set
    is moved into place by ``rename``); writers put their files there. On a clean
    exit the set replaces the folder's previous plumecast results:

    - a new or empty folder, or one holding only an earlier plumecast set, is
      swapped for the staging folder in one ``rename`` (``renameat2`` exchange on
      Linux): a reader sees the old set or the new one, never a mixture; files of
      the earlier set that this run does not write are gone;
    - a folder that also holds other files (yours) keeps them: each file of the set
      is moved in with an atomic ``os.replace``, files listed by the earlier set's
      marker and not written again are removed, and the marker is written last.

    A marker file (:data:`MARKER_NAME`) lists the set. A folder that already holds
    plumecast results, or other files this command could overwrite, needs
    ``force=True`` (``--force``). An ``fcntl`` lock on ``.<name>.plumecast-lock``
    beside the folder stops two runs writing one folder: the second fails at once,
    naming the folder and the first run's process id. On any exception (Ctrl-C and
    SIGTERM included, see :func:`plumecast.cli.common.run_app`) the staging folder is
    removed and the folder is left as it was.
    """

    def __init__(self, folder: str | Path, *, command: str, force: bool = False, resume: bool = False,
                 option: str = "-o/--output") -> None:
        self.final = Path(folder)  # as the user gave it: in messages and the paths of the files written
        # the folder itself, resolved: ``-o .`` is the current folder, whose parent gets the lock and the
        # staging folder (not ``./..plumecast-lock`` inside the folder to be written)
        self._dir = Path(os.path.abspath(self.final)).resolve()
        self.command = command
        self.force = force
        self.resume = resume
        self.option = option
        self.path = self._dir  # the staging folder once entered
        self._stage = self._dir
        self.committed: list[Path] = []
        #: files and folders in the folder named like plumecast results (:data:`RESULT_PATTERNS`) that
        #: the new set did not replace: kept, as every file not of an earlier set is (set on commit)
        self.left_results: list[str] = []
        self._lock_fd: int | None = None
        self._lock_path = self._dir.parent / f".{self._dir.name}.plumecast-lock"

    # ---- lock
    def _acquire_lock(self) -> None:
        import fcntl

        while True:
            fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                try:
                    pid = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "unknown"
                finally:
                    os.close(fd)
                raise OutputPathError(
                    f"{self.option} {self._shown()}: another plumecast run (pid {pid}) is writing this folder; "
                    "wait for it to finish or choose another folder") from None
            # the holder before us may have removed the lock file: lock the file that is there now
            try:
                same = os.path.samestat(os.fstat(fd), os.stat(self._lock_path))
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
        self._lock_fd = fd

    def _release_lock(self) -> None:
        if self._lock_fd is None:
            return
        with contextlib.suppress(OSError):
            self._lock_path.unlink()
        os.close(self._lock_fd)
        self._lock_fd = None

    # ---- checks
    def _shown(self) -> str:
        """The folder as the user gave it, and where it is when that is not plain (``.``, ``..``)."""
        plain = self.final.name not in ("", "..") or str(self.final) == str(self._dir)
        return str(self.final) if plain else f"{self.final} ({self._dir})"

    def _check_target(self) -> None:
        marker = read_marker(self._dir) if self._dir.is_dir() else None
        if self.force or self.resume or not self._dir.is_dir():
            return
        state = self._dir / CHECKPOINT_NAME / "state.npz"
        if state.is_file():  # a rerun had started again and dropped the checkpoint (outputs audit, session 30)
            from plumecast.checkpoint import checkpoint_brief

            brief = checkpoint_brief(state)
            if brief == "unreadable":
                raise OutputPathError(
                    f"{self.option} {self._shown()}: holds a damaged checkpoint ({state} cannot be read, so the run "
                    "cannot be resumed); give --force to start again (the checkpoint is then dropped)")
            raise OutputPathError(
                f"{self.option} {self._shown()}: holds the checkpoint of an interrupted run ({brief}); continue it "
                f"with `plumecast run --resume {self.final}`, or give --force to start again (the checkpoint is then "
                "dropped)")
        if marker is not None:
            raise OutputPathError(
                f"{self.option} {self._shown()}: already holds plumecast results (of `plumecast "
                f"{marker.get('command', '?')}`, {marker.get('created', '?')}); give --force to replace them "
                "or choose another folder")
        entries = sorted(e.name for e in self._dir.iterdir() if e.name not in (CHECKPOINT_NAME, *TRANSIENT_NAMES))
        if entries:
            shown = ", ".join(entries[:3]) + (f" and {len(entries) - 3} more" if len(entries) > 3 else "")
            raise OutputPathError(
                f"{self.option} {self._shown()}: is not empty ({shown}); expected a new or empty folder for the "
                "results, or --force to write into it (files of the same name are replaced, others kept)")

    def __enter__(self) -> OutputSet:
        import shutil

        if self._dir.parent == self._dir:
            raise OutputPathError(
                f"{self.option} {self._shown()}: is the root of the file system; expected a folder for the "
                "results (e.g. -o results)")
        _no_file_in_the_way(self.final, self.option)
        check_output_dir(self._dir.parent, self.option, target=self.final)
        self._acquire_lock()
        try:
            self._check_target()
            if self._dir.exists():
                check_output_dir(self._dir, self.option)
            # staging folders of a run killed with SIGKILL: ours to remove, we hold the lock
            for old in self._dir.parent.glob(f".{self._dir.name}.{STAGING_INFIX}*"):
                shutil.rmtree(old, ignore_errors=True)
            self.path = Path(tempfile.mkdtemp(prefix=f".{self._dir.name}.{STAGING_INFIX}",
                                              dir=self._dir.parent))
            os.chmod(self.path, 0o777 & ~current_umask())
            self._stage = self.path
        except BaseException:
            self._release_lock()
            raise
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        import shutil

        try:
            if exc_type is None:
                self._commit()
        finally:
            if self.path != self._dir:
                shutil.rmtree(self.path, ignore_errors=True)
            self._release_lock()

    def final_path(self, p: str | Path) -> Path:
        """Where a file written to the staging folder lies once the set is in place."""
        p = Path(p)
        try:
            return self.final / p.relative_to(self._stage)
        except ValueError:
            return p

    # ---- commit
    def _commit(self) -> None:
        import datetime
        import json
        import shutil

        files = sorted(str(p.relative_to(self.path)) for p in self.path.rglob("*") if p.is_file())
        marker = {"command": self.command, "created": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
                  "pid": os.getpid(), "files": files}
        write_bytes_atomic(self.path / MARKER_NAME, json.dumps(marker, indent=1).encode("utf-8"))
        old = read_marker(self._dir) or {}
        listed = old.get("files")
        old_files = {str(f) for f in listed} if isinstance(listed, list) else set()
        ours = old_files | {MARKER_NAME, CHECKPOINT_NAME, *TRANSIENT_NAMES}
        top_old = {f.split("/")[0] for f in ours}
        entries = {e.name for e in self._dir.iterdir()} if self._dir.is_dir() else set()
        if entries <= top_old and not _is_cwd(self._dir):
            # nothing but an earlier set (or nothing): swap the folders in one step
            if entries & set(TRANSIENT_NAMES):
                _carry_transients(self._dir, self.path)
                entries -= set(TRANSIENT_NAMES)
            if not self._dir.exists():
                os.rename(self.path, self._dir)
            elif not entries:
                os.rename(self.path, self._dir)  # POSIX: renaming onto an empty folder replaces it
            elif _exchange(self.path, self._dir):
                pass  # self.path now holds the earlier set; removed in __exit__
            else:
                trash = Path(tempfile.mkdtemp(prefix=f".{self._dir.name}.plumecast-old-", dir=self._dir.parent))
                os.rename(self._dir, trash / "set")
                os.rename(self.path, self._dir)
                shutil.rmtree(trash, ignore_errors=True)
            if not self.path.exists():
                self.path = self._dir  # nothing left to clean
        else:
            # the folder holds other files too, or is the current folder (``-o .``: the shell there must
            # not be left in a folder swapped away): move ours in one by one, marker last; first make sure
            # each can take its place, so that a refusal leaves the folder as it was, not half replaced
            for rel in files:
                dst = self._dir / rel
                if dst.is_dir() and not (self.path / rel).is_dir():
                    raise OutputPathError(
                        f"{self.option} {self._shown()}: {rel} there is a folder, where this command writes a file; "
                        "expected a folder without it (remove or rename it), or choose another output folder")
            for rel in files:
                dst = self._dir / rel
                dst.parent.mkdir(parents=True, exist_ok=True)
                os.replace(self.path / rel, dst)
            for rel in sorted(old_files - set(files)):
                with contextlib.suppress(OSError):
                    (self._dir / rel).unlink()
            shutil.rmtree(self._dir / CHECKPOINT_NAME, ignore_errors=True)
            os.replace(self.path / MARKER_NAME, self._dir / MARKER_NAME)
            new_top = {f.split("/")[0] for f in files}
            self.left_results = sorted(e.name for e in self._dir.iterdir() if e.name not in new_top
                                       and any(fnmatch.fnmatchcase(e.name, p) for p in RESULT_PATTERNS))
        self.committed = [self.final / f for f in files]
