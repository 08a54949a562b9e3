"""notifier.runtime: what `consume`, `send`, `serve` and `api` set up once started."""

import gc
from collections.abc import Iterator

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


@pytest.mark.usefixtures("collector")
def test_settling_freezes_what_start_up_made_and_collects_the_young_less_often() -> None:
    _, middle, oldest = gc.get_threshold()
    made_at_start_up = [object() for _ in range(10)]

    runtime.settle()

    assert gc.get_freeze_count() >= len(made_at_start_up)
    assert gc.get_threshold() == (runtime.YOUNGEST, middle, oldest)


@pytest.mark.usefixtures("collector")
def test_cyclic_garbage_made_after_settling_is_still_collected() -> None:
    runtime.settle()

    class Node:
        other: "Node"

    a, b = Node(), Node()
    a.other, b.other = b, a
    del a, b

    assert gc.collect() >= 2


def test_the_loop_is_uvloops() -> None:
    assert runtime.loop_factory() is uvloop.new_event_loop
