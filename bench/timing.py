"""Run a workload on several threads for a fixed time, and summarise what it did."""

from __future__ import annotations

import contextlib
import gc
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

Step = Callable[[], int]


@dataclass
class Run:
    """What a timed run did: units of work (events, requests), wall time, per-step latencies."""

    units: int
    seconds: float
    latencies: list[float] = field(default_factory=list)

    @property
    def rate(self) -> float:
        """Return units per second."""
        return self.units / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float:
        """Return the p-th percentile latency in milliseconds (nearest rank)."""
        ordered = sorted(self.latencies)
        if not ordered:
            return 0.0
        rank = min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))
        return ordered[rank] * 1000


@contextlib.contextmanager
def harness_gc_quiet() -> Iterator[None]:
    """Keep this process's own heap out of the timings.

    The generated log and its bookkeeping are millions of objects in this process; a full
    collection in the middle of a timed request added tens of milliseconds to a latency
    that was the harness's, not the service's. They are frozen while timing.
    """
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def run_threads(
    count: int,
    seconds: float,
    make_step: Callable[[int], tuple[Step, Callable[[], None]]],
    max_steps: int | None = None,
) -> Run:
    """Run `count` threads, each repeating its step until the time (or the step budget) is up.

    make_step(index) returns (step, close): the step does one unit of work and returns how
    many units it was (events appended, say); setup happens before the clock starts.
    """
    barrier = threading.Barrier(count + 1)
    lock = threading.Lock()
    totals = Run(0, 0.0)
    errors: list[BaseException] = []
    budget = [max_steps if max_steps is not None else 1 << 62]

    def worker(index: int) -> None:
        try:
            step, close = make_step(index)
        except BaseException as error:
            errors.append(error)
            barrier.abort()
            return
        units, latencies = 0, []
        try:
            barrier.wait()
            deadline = time.perf_counter() + seconds
            while time.perf_counter() < deadline:
                with lock:
                    if budget[0] <= 0:
                        break
                    budget[0] -= 1
                started = time.perf_counter()
                units += step()
                latencies.append(time.perf_counter() - started)
        except BaseException as error:  # reported by the caller, after the other threads stop
            errors.append(error)
        finally:
            close()
            with lock:
                totals.units += units
                totals.latencies.extend(latencies)

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(count)]
    with harness_gc_quiet():
        for thread in threads:
            thread.start()
        with contextlib.suppress(threading.BrokenBarrierError):
            barrier.wait()
        started = time.perf_counter()
        for thread in threads:
            thread.join()
        totals.seconds = time.perf_counter() - started
    if errors:
        raise errors[0]
    return totals
