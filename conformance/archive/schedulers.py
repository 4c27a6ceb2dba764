"""Where batches of files are validated: this process, local processes, or Dask distributed.

Every scheduler keeps a bounded number of batches in flight (a few per worker), pulling the
next batch from the lazy listing only when one finishes, so neither the driver nor the workers
hold more than a window of files, whatever the archive's size.  Results come back in completion
order as ``(files in the batch, JSON lines)``.
"""

from __future__ import annotations

import concurrent.futures as cf
import logging
import os
import re
import sys
from collections.abc import Iterator, Mapping
from multiprocessing import get_context
from typing import Any, Protocol

from conformance.archive.work import local_worker_init, validate_batch, warm_up

#: Batches in flight per worker: enough to keep a worker busy while the driver writes results.
IN_FLIGHT_PER_WORKER = 2


class SchedulerError(Exception):
    """The scheduler cannot start or lost its workers (the message says which and how to fix)."""


class Scheduler(Protocol):
    """Runs :func:`conformance.archive.work.validate_batch` over batches."""

    #: A short description for the report ("4 local processes", "Dask tcp://...: 8 threads").
    description: str
    workers: int

    def run(self, batches: Iterator[list[str]], options: Mapping[str, Any]
            ) -> Iterator[tuple[int, str]]:
        """``validate_batch(batch, **options)`` for each batch, in completion order."""
        ...

    def close(self) -> None: ...


class InProcess:
    """Validate in this process (``--jobs 1``)."""

    def __init__(self) -> None:
        self.description = "1 process"
        self.workers = 1

    def run(self, batches: Iterator[list[str]], options: Mapping[str, Any]
            ) -> Iterator[tuple[int, str]]:
        warm_up()
        for batch in batches:
            yield len(batch), validate_batch(batch, **options)

    def close(self) -> None:
        pass


class LocalProcesses:
    """*jobs* worker processes on this machine (the default of ``validate --jobs N``)."""

    def __init__(self, jobs: int) -> None:
        ctx = get_context("fork" if sys.platform != "win32" else "spawn")
        if ctx.get_start_method() == "fork":
            warm_up(freeze=True)        # loaded once here, shared by the forked workers
        self.workers = jobs
        self.description = f"{jobs} local processes"
        self._pool = cf.ProcessPoolExecutor(max_workers=jobs, mp_context=ctx,
                                            initializer=local_worker_init)

    def run(self, batches: Iterator[list[str]], options: Mapping[str, Any]
            ) -> Iterator[tuple[int, str]]:
        window = self.workers * IN_FLIGHT_PER_WORKER
        pending: dict[cf.Future[str], int] = {}
        source = iter(batches)
        exhausted = False
        while True:
            while not exhausted and len(pending) < window:
                batch = next(source, None)
                if batch is None:
                    exhausted = True
                    break
                pending[self._pool.submit(validate_batch, batch, **options)] = len(batch)
            if not pending:
                return
            done, _ = cf.wait(pending, return_when=cf.FIRST_COMPLETED)
            for fut in done:
                n = pending.pop(fut)
                try:
                    text = fut.result()
                except Exception as exc:
                    raise SchedulerError(f"a worker process failed: {type(exc).__name__}: "
                                         f"{exc}") from exc
                yield n, text

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


#: Worker settings of a LocalCluster (Dask configuration keys): the per-task overheads that
#: bought nothing for batches of small validations.
LOCAL_CLUSTER_CONFIG = {"distributed.worker.profile.enabled": False,
                        "distributed.admin.system-monitor.gil.enabled": False}

def joined(batches: Iterator[list[str]], at_least: int) -> Iterator[list[str]]:
    """Consecutive *batches* joined until each has *at_least* files (the last may have fewer);
    lazily, so no more than one joined batch is held."""
    out: list[str] = []
    for batch in batches:
        out += batch
        if len(out) >= at_least:
            yield out
            out = []
    if out:
        yield out


_ADDRESS = re.compile(r"^(tcp|tls)://([^:/\[\]]+|\[[0-9A-Fa-f:.]+\]):[0-9]{1,5}$")


def parse_dask(spec: str) -> tuple[str | None, int | None]:
    """``local`` / ``local:N`` → (None, N); ``tcp://HOST:PORT`` (or ``tls://``) → (address,
    None); anything else is a :class:`SchedulerError`."""
    if spec == "local" or spec.startswith("local:"):
        n = spec.partition(":")[2]
        if n and not (n.isdigit() and int(n) > 0):
            raise SchedulerError(f"--dask {spec}: expected local or local:N with N >= 1")
        return None, int(n) if n else None
    if not _ADDRESS.match(spec):
        raise SchedulerError(f"--dask {spec}: expected a scheduler address tcp://HOST:PORT "
                             "(e.g. tcp://10.0.0.5:8786), local, or local:N")
    return spec, None


class DaskScheduler:
    """Batches as tasks on a Dask distributed cluster: an existing one, or a LocalCluster.

    The workers must have this package installed (the same version) and see the files at the
    same absolute paths (a shared file system); each worker loads the pinned index once.

    Batches are joined into tasks of at least :attr:`task_files` files (the scheduler's cost is
    per task); results are written, and a re-run resumes, per task.

    Parameters
    ----------
    spec
        ``tcp://host:8786`` (an existing scheduler), ``local`` or ``local:N``.
    processes
        For a LocalCluster: worker processes (default) or threads in this process.
    timeout
        Seconds to wait for the scheduler.
    """

    #: Files per Dask task, at least: consecutive batches are joined up to this.  Each task
    #: costs the driver (where a LocalCluster's scheduler runs) about 5 ms of CPU, and the
    #: workers some more: at 64 files a task, a LocalCluster spent 16% more CPU per file than
    #: local processes; at 256, 6-9% (bin/bench_archive.py, 10,000 files, 2 workers).
    task_files = 256

    def __init__(self, spec: str, *, processes: bool = True, timeout: float = 30.0) -> None:
        try:
            import dask
            from distributed import Client, LocalCluster
        except ImportError as exc:
            raise SchedulerError("--dask needs the 'distributed' package: "
                                 "pip install 'dicom-conformance[dask]'") from exc
        address, n = parse_dask(spec)
        self._cluster: Any = None
        try:
            if address is None:
                n = n or os.cpu_count() or 1
                # A LocalCluster is ours to configure: no statistical profiler sampling the
                # task thread every 10 ms and no memory monitor polling every 100 ms (memory
                # is flat per worker here, see bin/bench_archive.py); the nannies pass this
                # configuration to their workers.  An existing cluster keeps its own.
                with dask.config.set(LOCAL_CLUSTER_CONFIG):
                    self._cluster = LocalCluster(n_workers=n, threads_per_worker=1,
                                                 processes=processes, dashboard_address=None,
                                                 memory_limit=0, silence_logs=logging.ERROR)
                self._client = Client(self._cluster, timeout=timeout)
            else:
                self._client = Client(address, timeout=timeout)
        except (OSError, TimeoutError, ValueError) as exc:
            self.close()
            raise SchedulerError(f"cannot reach the Dask scheduler at {spec}: {exc}") from exc
        self.workers = max(1, sum(self._client.nthreads().values()))
        where = "LocalCluster" if address is None else address
        self.description = f"Dask {where}: {self.workers} worker thread(s)"
        self._client.run(warm_up)

    def run(self, batches: Iterator[list[str]], options: Mapping[str, Any]
            ) -> Iterator[tuple[int, str]]:
        from distributed import as_completed

        window = self.workers * IN_FLIGHT_PER_WORKER
        source = joined(batches, self.task_files)
        sizes: dict[Any, int] = {}
        # with_results: results are gathered in the background as tasks finish, instead of one
        # blocking round trip to the worker per batch.
        queue = as_completed(with_results=True)

        def submit() -> bool:
            batch = next(source, None)
            if batch is None:
                return False
            fut = self._client.submit(validate_batch, batch, **options, pure=False)
            sizes[fut.key] = len(batch)
            queue.add(fut)
            return True

        for _ in range(window):
            if not submit():
                break
        while True:
            try:
                fut, text = next(queue)
            except StopIteration:
                return
            except Exception as exc:
                raise SchedulerError(f"a Dask task failed: {type(exc).__name__}: {exc}") from exc
            n = sizes.pop(fut.key)
            fut.release()
            submit()
            yield n, text

    def run_on_workers(self, fn: Any) -> dict[str, Any]:
        """``fn()`` on every worker: ``{worker address: result}`` (e.g. peak RSS)."""
        return dict(self._client.run(fn))

    def close(self) -> None:
        client = getattr(self, "_client", None)
        if client is not None:
            client.close()
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None
