"""What a long-running process of the service sets up once it has started: its event loop,
its garbage collector, and how it stops.

The collector's defaults suit a short script. In a worker, every batch's messages live
across awaits long enough to be promoted, so with the default thresholds the oldest
generation, with everything start-up made (SQLAlchemy's and pydantic's structures), is
collected again and again: 1.5 s of a 9 s consumer run, in 20 full collections. After
start-up that heap is frozen (never scanned again; it lives as long as the process), and
the youngest generation is collected every 10,000 allocations instead of 700. Objects
without cycles are freed by reference counting as ever; only cyclic garbage waits longer.
A threshold of 50,000 makes the consumer no faster, and `serve` then grows 8 % from
10,000 to 50,000 events where it grows 2 % at 10,000 (bench memory).
"""

import asyncio
import contextlib
import gc
import signal
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import Any

# Net allocations between two collections of the youngest generation (Python's: 700).
YOUNGEST = 10_000
# How long a stopping process lets its workers finish what they have in hand (a sender's
# batches) before it cancels them; with the sender's give-back (3 s at most) it stays
# under the 10 s Docker and systemd allow between SIGTERM and SIGKILL.
GRACE = 5.0


def loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's loop where it is installed (not on Windows): its sockets and timers cost
    less per message than asyncio's own. uvicorn picks it by itself for `serve` and `api`."""
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


def settle() -> None:
    """Freeze what start-up made and collect the youngest generation less often. Called
    once the process's services are built; calling it again freezes what is new."""
    gc.collect()
    gc.freeze()
    _, middle, oldest = gc.get_threshold()
    gc.set_threshold(YOUNGEST, middle, oldest)


async def stopped(stops: Sequence[Callable[[], Awaitable[None]]], grace: float = GRACE) -> None:
    """Ask each of `stops` to finish what it has in hand, for at most `grace` seconds."""
    if stops:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(grace):
                await asyncio.gather(*(stop() for stop in stops))


async def ended(
    tasks: Sequence[asyncio.Task[None]], stops: Sequence[Callable[[], Awaitable[None]]]
) -> None:
    """The app's workers ended as SIGTERM ends a worker process's: `stops` first (the
    sender finishes its batches), then the tasks cancelled and awaited."""
    await stopped(stops)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


async def until_terminated(
    work: Coroutine[Any, Any, None], stops: Sequence[Callable[[], Awaitable[None]]] = ()
) -> None:
    """`work` until it ends or SIGTERM (`docker stop`, systemd) stops it: `stops` are asked
    to finish what they have in hand (at most GRACE), then `work` is cancelled as Ctrl-C
    would, so that each worker cleans up, and the process ends with 0. Python's default
    for SIGTERM ends the process at once, with no cleanup at all."""
    task = asyncio.current_task()
    assert task is not None
    stopping: list[asyncio.Task[None]] = []

    async def stop_then_cancel() -> None:
        await stopped(stops)
        task.cancel()

    def terminate() -> None:
        if not stopping:  # a second SIGTERM changes nothing
            stopping.append(asyncio.create_task(stop_then_cancel()))

    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, terminate)
    try:
        await work
    except asyncio.CancelledError:
        if not stopping:
            raise
        task.uncancel()
    finally:
        loop.remove_signal_handler(signal.SIGTERM)
        for pending in stopping:
            pending.cancel()
