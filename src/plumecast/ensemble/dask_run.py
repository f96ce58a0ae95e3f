"""Running the members of a comparison on ``dask.distributed``.

What :func:`plumecast.ensemble.compare.run_members` uses when the members do not run
serially: :func:`_run_dask` submits the setup (as a task, :func:`_setup_task`) and one
:func:`plumecast.ensemble.compare.member_task` per member (a user error comes back as a
:class:`MemberFailure` value), sums their exceedance grids on the workers and turns what
can go wrong on a cluster into one-line errors: a malformed or silent scheduler address
(:func:`_connect`), a lost scheduler (:func:`_lost`), workers that all left
(:func:`_no_workers`, :class:`_WorkerWatch`), workers killed while running a member
(:func:`_killed`). Also the local cluster (:func:`local_cluster`, the environment of its
worker processes :func:`worker_environ`, undone in this process by
:func:`_restore_environ`) and where Dask's own log lines go (:class:`_DaskLog`,
:class:`_quiet_distributed`).
"""

from __future__ import annotations

import os
import re
import socket
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from plumecast.errors import PlumecastError, ScenarioError

if TYPE_CHECKING:
    from plumecast.ensemble.compare import CompareSetup, MemberResult
    from plumecast.ensemble.members import MemberSpec


#: seconds to wait for an external scheduler to answer (``--scheduler``), and for it to have a worker
CONNECT_TIMEOUT_S = 15.0
WORKERS_TIMEOUT_S = 30.0
#: seconds between checks that the scheduler is still there while members run
POLL_S = 0.05


@dataclass(frozen=True)
class MemberFailure:
    """A member that failed on a user error (a :class:`PlumecastError`): returned as a
    value, not raised, so that Dask neither retries it (the same input fails again)
    nor logs the worker's traceback."""

    index: int
    message: str


def _member_or_failure(setup: CompareSetup, spec: MemberSpec) -> MemberResult | MemberFailure:
    from plumecast.ensemble.compare import member_task

    try:
        return member_task(setup, spec)
    except PlumecastError as exc:
        return MemberFailure(spec.index, str(exc))


def _lost(scheduler: str | None) -> ScenarioError:
    """The scheduler went away (not its workers: :func:`_no_workers`)."""
    if scheduler:
        return ScenarioError(f"lost the connection to the Dask scheduler at {scheduler} during the run (it stopped "
                             "or became unreachable); no results were written: start the scheduler again (or leave "
                             "out --scheduler for a local cluster) and rerun")
    return ScenarioError("lost the connection to the scheduler of the local Dask cluster (in this process) during "
                         "the run; no results were written: rerun (--workers 0 runs the members in this process, "
                         "without Dask)")


def _no_workers(scheduler: str | None, workers: int, waited_s: float | None = None) -> ScenarioError:
    """Every worker left during the run and none came back within ``waited_s`` (the
    scheduler still answers: it is not :func:`_lost`)."""
    if scheduler:
        waited = f", without a worker for {waited_s:g} s" if waited_s else ", without a worker"
        return ScenarioError(f"--scheduler {scheduler}: every worker of the Dask scheduler left during the run (it "
                             f"is still running{waited}); no results were written: "
                             f"start workers again ('dask worker {scheduler}') and rerun")
    back = f" and none was back within {waited_s:g} s" if waited_s else ""
    return ScenarioError(f"the {workers} worker process{'es' if workers != 1 else ''} of the local Dask cluster "
                         f"died during the run{back}; no results were written: "
                         "rerun (with fewer particles or --workers if they ran out of memory; --workers 0 runs the "
                         "members in this process)")


def _killed(key: Any, allowed: int, scheduler: str | None) -> ScenarioError:
    """A task whose workers kept dying while they ran it (``distributed.KilledWorker``)."""
    import re

    m = re.match(r"plumecast-(?:member|small)-(\d+)-", str(key))
    who = f"ensemble member {m.group(1)}" if m else "a task of the comparison"
    where = f"workers of the Dask scheduler at {scheduler}" if scheduler else "local Dask workers"
    return ScenarioError(f"{who}: {allowed + 1} {where} died while running it (killed, e.g. for want of memory); "
                         "no results were written: rerun with fewer particles"
                         + ("" if scheduler else " or --workers, or --workers 0 to run in this process"))


def _result(future: Any, scheduler: str | None, watch: _WorkerWatch | None = None) -> Any:
    """``future.result()``; a connection lost on the way (the scheduler went away) is
    :func:`_lost`, a task cancelled while the scheduler still answers is what ``watch``
    makes of it (:meth:`_WorkerWatch.cancelled`), a task whose workers kept dying is
    :func:`_killed`, an exception of the task itself is raised."""
    import asyncio
    import concurrent.futures

    try:
        while watch is not None:
            # a task done on a worker that then died is computed again, on a worker that may
            # never come: wait in steps, watching the workers (before, this waited forever)
            try:
                return future.result(timeout=WORKER_CHECK_S)
            except TimeoutError:
                if watch.client.status != "running":
                    raise _lost(scheduler) from None
                watch.check()
        return future.result()
    except (OSError, asyncio.CancelledError, concurrent.futures.CancelledError):
        if future.status == "error":
            raise
        if watch is not None and watch.client.status == "running":
            raise watch.cancelled() from None
        raise _lost(scheduler) from None
    except Exception as exc:
        if type(exc).__name__ == "KilledWorker":
            raise _killed(getattr(exc, "task", future.key), int(getattr(exc, "allowed_failures", 3)),
                          scheduler) from None
        raise


def _setup_task(setup: CompareSetup) -> CompareSetup:
    """The setup as a task's result: Dask recomputes it from the graph when the workers
    holding it die (scattered data it could not, so their members were cancelled)."""
    return setup


class _DaskLog:
    """Dask's own log lines (its ``distributed`` and ``tornado`` loggers) go to a file
    while members run, not to the console: a worker that died, the nanny restarting it,
    its tasks rescheduled are Dask's business, and plumecast says in one line what it
    means for the run. The file (in the temporary folder) is made at the first warning;
    :attr:`path` is None while nothing was written to it."""

    #: asyncio's: the gathers of :func:`_result` given up at a timeout end with an
    #: exception nobody retrieves when the client closes ("Task exception was never retrieved")
    NAMES = ("distributed", "tornado", "asyncio")

    def __init__(self, token: str) -> None:
        import tempfile

        self.file = os.path.join(tempfile.gettempdir(), f"plumecast-dask-{token}.log")

    def __enter__(self) -> _DaskLog:
        import logging

        self.handler = logging.FileHandler(self.file, delay=True, encoding="utf-8")
        self.handler.setLevel(logging.WARNING)
        self.handler.setFormatter(logging.Formatter("%(asctime)s - %(name)s - %(levelname)s - %(message)s"))
        self.saved = []
        for name in self.NAMES:
            lg = logging.getLogger(name)
            self.saved.append((lg, lg.handlers[:], lg.propagate))
            lg.handlers = [self.handler]
            lg.propagate = False
        return self

    def __exit__(self, *exc: object) -> None:
        import gc

        gc.collect()  # the client's abandoned tasks are finalised (and log) while their lines go to the file
        for lg, handlers, propagate in self.saved:
            lg.handlers = handlers
            lg.propagate = propagate
        self.handler.close()

    @property
    def path(self) -> str | None:
        return self.file if os.path.exists(self.file) else None


def _connect(scheduler: str) -> Any:
    """A Client of the scheduler at ``scheduler``, or a ScenarioError saying what was expected."""
    from distributed import Client

    expected = ("expected the address of a running Dask scheduler, tcp://HOST:PORT (what 'dask scheduler' "
                "prints, e.g. tcp://10.0.0.5:8786)")
    import re

    # checked before a Client exists: a Client that fails on a malformed address waits 30 s
    # in its finaliser and prints a traceback at exit
    if not scheduler.startswith("inproc://") and not re.fullmatch(
            r"((tcp|tls|ucx|ws|wss)://)?(\[[0-9A-Fa-f:.]+\]|[^\s/:\[\]]+):\d{1,5}/?", scheduler):
        raise ScenarioError(f"--scheduler {scheduler}: not a Dask scheduler address; {expected}")
    _probe(scheduler, expected)
    # the Client is made in a daemon thread with a deadline of its own: something other than a
    # scheduler on that port (its dashboard, a web server, ssh) can leave Client() waiting for a
    # handshake that never comes, or feed it bytes that it reads as a frame of exabytes
    import threading

    box: dict[str, Any] = {}

    def make() -> None:
        # made in two steps so that a Client whose start fails can be closed here: left to its
        # finaliser at exit, it waited 2 x the timeout and printed a traceback (audit: ssh's banner)
        client = box["half"] = Client.__new__(Client)
        try:
            with _quiet_distributed():
                client.__init__(scheduler, timeout=CONNECT_TIMEOUT_S, set_as_default=False)  # type: ignore[misc]
            box["client"] = client
        except BaseException as exc:  # noqa: BLE001 - reported below as one line
            box["error"] = exc
            _close_quietly(client)

    maker = threading.Thread(target=make, name="plumecast-connect", daemon=True)
    maker.start()
    maker.join(CONNECT_TIMEOUT_S + 5.0)
    if "client" in box:
        return box["client"]
    exc = box.get("error")
    if exc is None:
        _close_quietly(box.get("half"))
        raise ScenarioError(f"--scheduler {scheduler}: no Dask scheduler answered within {CONNECT_TIMEOUT_S:g} s "
                            f"(something is listening there but does not speak Dask's protocol: a dashboard or web "
                            f"port?); {expected}")
    reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if isinstance(exc, (OSError, TimeoutError)):
        raise ScenarioError(f"--scheduler {scheduler}: no Dask scheduler answered within "
                            f"{CONNECT_TIMEOUT_S:g} s ({reason}); {expected}") from None
    raise ScenarioError(f"--scheduler {scheduler}: not a Dask scheduler ({type(exc).__name__}: {reason[:120]}); "
                        f"{expected}") from None


def _probe(scheduler: str, expected: str) -> None:
    """Open (and close) a plain TCP connection to a tcp:// (or bare HOST:PORT) scheduler address first, so
    that a refused connection or an unknown host is said at once: the Client retries those until its timeout
    (``--scheduler tcp://127.0.0.1:1`` had waited the full 15 s; badinput audit, session 43). A host that does
    not answer still fails after :data:`CONNECT_TIMEOUT_S`."""
    import re
    import socket

    m = re.fullmatch(r"(?:tcp://)?\[?([^\[\]/]+?)\]?:(\d{1,5})/?", scheduler)
    if m is None:
        return  # tls://, ws://, ucx://, inproc://: left to the Client
    host, port = m.group(1), int(m.group(2))
    try:
        with socket.create_connection((host, port), timeout=CONNECT_TIMEOUT_S):
            pass
    except ConnectionRefusedError:
        raise ScenarioError(f"--scheduler {scheduler}: connection refused: nothing listens on port {port} of "
                            f"{host} (is the scheduler started there, and on this port?); {expected}") from None
    except socket.gaierror as exc:
        raise ScenarioError(f"--scheduler {scheduler}: the host {host!r} is not known ({exc.strerror or exc}); "
                            f"{expected}") from None
    except TimeoutError:
        raise ScenarioError(f"--scheduler {scheduler}: no Dask scheduler answered within {CONNECT_TIMEOUT_S:g} s "
                            f"(the host did not answer); {expected}") from None
    except OSError as exc:
        raise ScenarioError(f"--scheduler {scheduler}: cannot connect ({exc.strerror or exc}); {expected}") from None


def _close_quietly(client: Any, timeout_s: float = 2.0) -> None:
    """Close a Client that never got going, within ``timeout_s`` and without a word; marked
    closed in any case, so that its finaliser does not try again at exit."""
    if client is None:
        return
    with _quiet_distributed():
        try:
            client.close(timeout=timeout_s)
        except BaseException:  # noqa: BLE001, S110 - best effort: it is being given up
            pass
    try:
        client.status = "closed"
    except Exception:  # noqa: BLE001, S110 - a Client without a status has nothing to close
        pass


class _quiet_distributed:
    """distributed's loggers (or those of ``names``) at CRITICAL for the block: its
    reconnection tracebacks, cancellation and nanny warnings are not the user's
    business when plumecast says in one line what happened."""

    def __init__(self, names: tuple[str, ...] = ("distributed", "tornado")) -> None:
        self.names = names

    def __enter__(self) -> None:
        import logging

        self.loggers = [logging.getLogger(n) for n in self.names]
        self.levels = [lg.level for lg in self.loggers]
        for lg in self.loggers:
            lg.setLevel(logging.CRITICAL)

    def __exit__(self, *exc: object) -> None:
        for lg, level in zip(self.loggers, self.levels, strict=True):
            lg.setLevel(level)


def _stop_local_workers(cluster: Any) -> None:
    """Kill the local worker processes at once (after an error or an interrupt: a worker
    busy in a transport would otherwise take the nanny's 4 s grace time). The nanny is
    told it is closing first, so it does not start a new worker in its place."""
    import signal

    for nanny in list(getattr(cluster, "workers", {}).values()):
        pid = getattr(nanny, "pid", None)
        try:
            nanny.close_gracefully(reason="plumecast-stop")
        except Exception:  # noqa: BLE001 - best effort: cluster.close() still stops it
            continue
        if pid:
            try:
                os.kill(int(pid), signal.SIGKILL)
            except OSError:
                pass


def _run_dask(setup: CompareSetup, specs: list[MemberSpec], workers: int, scheduler: str | None,
              progress: Callable[[int, int], None] | None, retries: int, worker_threads: int | None = None
              ) -> tuple[dict[str, NDArray[np.uint32]] | None, list[MemberResult | None], int, str | None]:
    """Run the members on Dask. A member that fails on a user error stops the run with
    ``ensemble member N: ...`` (the lowest failing index: the message does not depend on
    the workers); ``retries`` only re-run tasks that failed otherwise. A lost worker is
    rescheduled by Dask itself, on the workers left or on the one the local cluster's
    nanny starts in its place: the setup goes in as a task, which Dask recomputes, not as
    scattered data, which it cannot (its loss cancelled every member). A lost scheduler
    is an error within about the polling interval, not a hang; a scheduler left without
    workers for :data:`WORKERS_TIMEOUT_S` says so (:func:`_no_workers`). Dask's own log
    lines go to a file (:class:`_DaskLog`), returned last (None: nothing logged)."""
    from plumecast.ensemble.compare import _grids, _member_message, _small, add_grids

    try:
        from distributed import Client, as_completed
    except ImportError as exc:  # pragma: no cover - dask[distributed] is a dependency
        raise ScenarioError('plumecast compare needs dask.distributed: pip install "dask[distributed]"') from exc
    cluster = None
    environ = dict(os.environ)
    token = uuid.uuid4().hex[:12]
    log = _DaskLog(token)
    log.__enter__()
    try:
        if scheduler:
            client = _connect(scheduler)
        else:
            cluster = local_cluster(workers, worker_threads)
            client = Client(cluster, set_as_default=False)
    except BaseException:
        log.__exit__()
        _restore_environ(environ)
        raise
    n = len(specs)
    results: list[MemberResult | None] = [None] * n
    ok = False
    # the client's own log of a lost scheduler (a traceback per reconnection attempt)
    quiet_client = _quiet_distributed(("distributed.client", "distributed.comm", "distributed.core", "tornado"))
    quiet_client.__enter__()
    try:
        if scheduler:
            try:
                client.wait_for_workers(1, timeout=WORKERS_TIMEOUT_S)
            except (TimeoutError, OSError):
                if client.status != "running":
                    raise _lost(scheduler) from None
                raise ScenarioError(
                    f"--scheduler {scheduler}: the Dask scheduler has no workers (waited {WORKERS_TIMEOUT_S:g} s); "
                    f"start some with 'dask worker {scheduler}', or leave out --scheduler for a local cluster"
                    ) from None
        used = len(client.scheduler_info().get("workers", {}))
        setup_f = client.submit(_setup_task, setup, key=f"plumecast-setup-{token}", pure=False)
        ac = as_completed(loop=client.loop)
        small: dict[Any, int] = {}
        for k, spec in enumerate(specs):
            f = client.submit(_member_or_failure, setup_f, spec, key=f"plumecast-member-{spec.index}-{token}",
                              retries=retries, pure=False)
            sf = client.submit(_small, f, key=f"plumecast-small-{spec.index}-{token}", retries=retries)
            small[sf.key] = k
            ac.add(f)
            ac.add(sf)
            del f, sf  # only as_completed and the reduction hold members, so they leave worker memory once summed
        queue: list[Any] = []
        failed: dict[int, str] = {}
        pending = set(range(n))
        done = 0
        watch = _WorkerWatch(client, scheduler, workers)
        while not ac.is_empty():
            if failed and not any(j < min(failed) for j in pending):
                break  # every member before the first failing one has finished: its error is the one
            batch = ac.next_batch(block=False)
            if not batch:
                if client.status != "running":
                    raise _lost(scheduler)
                watch.check()
                time.sleep(POLL_S)
                continue
            for f in batch:
                if client.status != "running":
                    raise _lost(scheduler)
                if f.status == "cancelled":
                    raise watch.cancelled()
                if f.key in small:
                    k = small[f.key]
                    r = _result(f, scheduler, watch)
                    pending.discard(k)
                    if isinstance(r, MemberFailure):
                        failed[k] = _member_message(r.index, r.message)
                    else:
                        results[k] = r
                        done += 1
                        if progress and not failed:
                            progress(done, n)
                    continue
                if f.status == "error":
                    _result(f, scheduler, watch)  # a member whose workers kept dying: _killed
                if not setup.maps or failed:
                    continue
                queue.append(f)
                if len(queue) >= 2:
                    a, b = queue.pop(0), queue.pop(0)
                    ac.add(client.submit(add_grids, a, b, retries=retries, pure=False))
                    del a, b
            del batch
        if failed:
            raise ScenarioError(failed[min(failed)])
        counts = _grids(_result(queue[0], scheduler, watch)) if queue else None
        queue.clear()
        del setup_f
        ok = True
    except ScenarioError as exc:
        path = log.path
        if path is None:
            raise
        raise ScenarioError(f"{exc} (Dask's log of the run: {path})") from None
    finally:
        with _quiet_distributed():
            if cluster is not None and not ok:
                _stop_local_workers(cluster)
            client.close()
            if cluster is not None:
                cluster.close()
        quiet_client.__exit__()
        log.__exit__()
        _restore_environ(environ)
    return counts, results, used, log.path


#: seconds between checks, while no task finishes, that the scheduler still has a worker
WORKER_CHECK_S = 1.0
#: how long a cancelled task's scheduler is watched for going away before the cancellation is said to be its own [s]
CANCEL_SETTLE_S = 5.0


class _WorkerWatch:
    """Whether the scheduler still has workers, asked at most every :data:`WORKER_CHECK_S`
    while no task finishes: Dask keeps a task whose workers all left waiting for a new one
    (the local cluster's nanny restarts a worker that died within seconds); none for
    :data:`WORKERS_TIMEOUT_S` is :func:`_no_workers`."""

    def __init__(self, client: Any, scheduler: str | None, workers: int) -> None:
        self.client, self.scheduler, self.workers = client, scheduler, workers
        self.last = time.monotonic()
        self.none_since: float | None = None
        #: checks in a row at which the scheduler's port did not answer
        self.unanswered = 0

    @property
    def address(self) -> str | None:
        """The scheduler's address (the local cluster's too)."""
        a = getattr(getattr(self.client, "scheduler", None), "address", None) or self.scheduler
        return str(a) if a else None

    def count(self) -> int:
        try:
            info = self.client.scheduler_info(n_workers=0)
        except (OSError, TimeoutError):
            raise _lost(self.scheduler) from None
        return int(info.get("n_workers", len(info.get("workers", {}))))

    def check(self) -> None:
        now = time.monotonic()
        if now - self.last < WORKER_CHECK_S:
            return
        self.last = now
        # the scheduler gone: its port refuses (two checks in a row, against a moment's hiccup). The
        # client takes a while to notice, and meanwhile calls itself running with its cached view of
        # the scheduler: on a loaded machine a killed scheduler's cancelled tasks had read as the
        # scheduler cancelling them itself (CI)
        gone = self.address is not None and not _answers(self.address)
        if gone:
            self.unanswered += 1
            if self.unanswered >= 2:
                raise _lost(self.scheduler)
        else:
            self.unanswered = 0
        if self.count() > 0:
            self.none_since = None
        elif self.none_since is None:
            self.none_since = now
        elif now - self.none_since >= WORKERS_TIMEOUT_S:
            raise _no_workers(self.scheduler, self.workers, WORKERS_TIMEOUT_S)

    def cancelled(self) -> ScenarioError:
        """What a task cancelled by the scheduler (not by this process) means: the scheduler
        gone (the client may still call itself running while it reconnects, and its scheduler
        information is a cached copy: the scheduler's port is asked), no workers, or the
        scheduler cancelling them itself."""
        # a scheduler that is going away cancels its tasks before it closes its port: asked for a few
        # seconds before the cancellation is put down to the scheduler itself
        deadline = time.monotonic() + CANCEL_SETTLE_S
        while True:
            if self.client.status != "running" or (self.address is not None and not _answers(self.address)):
                return _lost(self.scheduler)
            if time.monotonic() >= deadline:
                break
            time.sleep(0.25)
        if self.count() == 0:
            return _no_workers(self.scheduler, self.workers)
        where = f"the Dask scheduler at {self.scheduler}" if self.scheduler else "the local Dask scheduler"
        return ScenarioError(f"{where} cancelled the comparison's tasks during the run (restarted, or another "
                             "client cancelled them?); no results were written: rerun")


def _answers(address: str, timeout_s: float = 2.0) -> bool:
    """Whether a TCP (or TLS) scheduler address accepts a connection within ``timeout_s``;
    True for an address that is not host:port (in-process: nothing to ask)."""
    m = re.match(r"^(?:tcp|tls)://\[?([^\]]+?)\]?:(\d+)$", address.strip())
    if m is None:
        return True
    try:
        socket.create_connection((m.group(1), int(m.group(2))), timeout=timeout_s).close()
    except OSError:
        return False
    return True


def worker_environ(workers: int, threads: int | None = None) -> dict[str, str | None]:
    """Environment of the local worker processes, set before they start
    (``distributed.nanny.pre-spawn-environ``; None removes a variable).

    * ``MALLOC_TRIM_THRESHOLD_`` is removed. Dask sets it to 64 KiB so that workers
      hand freed memory back to the system, but setting it turns off glibc's dynamic
      mmap threshold (mallopt(3)): every array above 128 KiB is then a fresh mmap,
      zero-filled page by page and unmapped when freed. A member allocates such
      arrays for every output interval (grids, emission tags, assessments), and this
      made it 2.3x slower in a worker than in the parent (system time 0.98 -> 8.3 s
      for 4 members, measured in one process with and without the variable).
    * Numba, OpenMP and BLAS get ``cores // workers`` threads each, so the workers do
      not oversubscribe the cores (or ``threads`` each where given); set before the
      process starts, so it holds even where numba is imported while the worker
      unpickles its first task.
    * ``DASK_LOGGING__DISTRIBUTED=error``: the workers' own log lines (a task cancelled
      by Ctrl-C, a worker closing) are not shown; plumecast reports what happened.
    """
    n = str(max(1, (os.cpu_count() or 1) // max(workers, 1)) if threads is None else max(1, int(threads)))
    return {"MALLOC_TRIM_THRESHOLD_": None, "NUMBA_NUM_THREADS": n, "OMP_NUM_THREADS": n,
            "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "DASK_LOGGING__DISTRIBUTED": "error"}


def local_cluster(workers: int, threads: int | None = None) -> Any:
    """A LocalCluster of ``workers`` worker processes, one task at a time each, with
    :func:`worker_environ` (members run numba with ``cores // workers`` threads, or
    ``threads``)."""
    import dask
    from distributed import LocalCluster

    key = "distributed.nanny.pre-spawn-environ"
    with dask.config.set({f"{key}.{k}": v for k, v in worker_environ(workers, threads).items()}):
        # ':0': the scheduler's small HTTP server on a free port (None would still take 8787,
        # with a warning when another cluster holds it)
        return LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0")


def _restore_environ(before: dict[str, str]) -> None:
    """Undo what the nannies wrote into this process's environment before spawning
    (``os.environ.update(pre-spawn-environ)``, PYTHONHASHSEED included), so that later
    child processes of the caller do not inherit the workers' settings."""
    import dask

    keys = set(dask.config.get("distributed.nanny.pre-spawn-environ", {})) | set(worker_environ(1))
    for k in keys | {"PYTHONHASHSEED"}:
        if k not in before:
            os.environ.pop(k, None)
        elif os.environ.get(k) != before[k]:
            os.environ[k] = before[k]
