"""notifier.runtime: what `consume`, `send`, `serve` and `api` set up once started."""

import gc
import signal
import subprocess
import sys
import weakref
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvloop

from notifier import runtime


@pytest.fixture
def collector() -> Iterator[None]:
    before = gc.get_threshold()
    try:
        yield
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
        gc.enable()


class Node:
    """A container the collector tracks (a bare object() is never tracked)."""

    other: "Node"


@pytest.mark.usefixtures("collector")
def test_settling_freezes_what_start_up_made_and_collects_the_young_less_often() -> None:
    _, middle, oldest = gc.get_threshold()
    made_at_start_up = [Node() for _ in range(10)]
    assert all(gc.is_tracked(node) for node in made_at_start_up)

    runtime.settle()

    # Frozen: in the permanent generation, which no collection scans.
    scanned = {id(found) for found in gc.get_objects()}
    assert not any(id(node) in scanned for node in made_at_start_up)
    assert gc.get_freeze_count() >= len(made_at_start_up)
    assert gc.get_threshold() == (runtime.YOUNGEST, middle, oldest)


@pytest.mark.usefixtures("collector")
def test_cyclic_garbage_made_after_settling_is_still_collected() -> None:
    """By the collector on its own, once YOUNGEST more containers are alive: never by a
    gc.collect() of the test's."""
    runtime.settle()
    a, b = Node(), Node()
    a.other, b.other = b, a
    gone = weakref.ref(a)
    del a, b

    alive = [[] for _ in range(runtime.YOUNGEST * 2)]

    assert gone() is None
    assert len(alive) == runtime.YOUNGEST * 2


def test_the_loop_is_uvloops() -> None:
    assert runtime.loop_factory() is uvloop.new_event_loop


STOPPING = """
import asyncio
from notifier import runtime

async def work() -> None:
    print("ready", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await asyncio.sleep(0.1)  # cleanup may still await
        print("cleaned up", flush=True)

with asyncio.Runner(loop_factory=runtime.loop_factory()) as runner:
    runner.run(runtime.until_terminated(work()))
print("ended", flush=True)
"""


def test_sigterm_stops_the_work_as_ctrl_c_does_with_its_cleanup_and_exit_0() -> None:
    """`docker stop`: Python's default would end the process with no cleanup at all."""
    root = Path(__file__).resolve().parent.parent
    command = [sys.executable, "-c", STOPPING]
    with subprocess.Popen(command, stdout=subprocess.PIPE, cwd=root) as process:
        try:
            assert process.stdout is not None
            assert process.stdout.readline() == b"ready\n"
            process.send_signal(signal.SIGTERM)
            out, _ = process.communicate(timeout=10)
        finally:
            process.kill()
    assert process.returncode == 0
    assert out.decode().splitlines() == ["cleaned up", "ended"]
