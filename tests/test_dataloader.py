"""The per-request DataLoader: keys asked for together are one batch, each key is loaded once, failures reach
every caller of the batch, and nobody waits forever when the batch's first caller goes away."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import pytest

from execution.dataloader import LOADS_ALONE, DataLoader


class Recorder:
    def __init__(self, fail: BaseException | None = None, results: dict[int, object] | None = None) -> None:
        self.calls: list[list[int]] = []
        self.fail = fail
        self.results = results or {}
        self.release = asyncio.Event()
        self.release.set()

    async def __call__(self, keys: list[int]) -> Sequence[object]:
        self.calls.append(keys)
        await self.release.wait()
        if self.fail is not None:
            raise self.fail
        return [self.results.get(k, k * 10) for k in keys]


async def test_keys_asked_for_in_the_same_turn_are_one_batch():
    batch = Recorder()
    loader = DataLoader(batch)
    assert await asyncio.gather(*(loader.load(k) for k in (3, 1, 2))) == [30, 10, 20]
    assert batch.calls == [[3, 1, 2]]
    assert await loader.load_many([4, 5]) == [40, 50]
    assert batch.calls[1] == [4, 5]


async def test_a_key_is_loaded_once_and_later_loads_are_new_batches():
    batch = Recorder()
    loader = DataLoader(batch)
    assert await asyncio.gather(loader.load(1), loader.load(1)) == [10, 10]
    assert await loader.load(1) == 10
    assert await loader.load(2) == 20
    assert batch.calls == [[1], [2]]


async def test_a_failed_batch_fails_each_of_its_keys():
    batch = Recorder(fail=ValueError("database down"))
    loader = DataLoader(batch)
    results = await asyncio.gather(loader.load(1), loader.load(2), return_exceptions=True)
    assert [type(r) for r in results] == [ValueError, ValueError]
    with pytest.raises(ValueError):
        await loader.load(1)  # remembered for the rest of the request, as any result is
    assert batch.calls == [[1, 2]]


async def test_an_error_for_one_key_fails_only_that_key():
    batch = Recorder(results={2: LookupError("no such thing")})
    loader = DataLoader(batch)
    results = await asyncio.gather(loader.load(1), loader.load(2), return_exceptions=True)
    assert results[0] == 10 and isinstance(results[1], LookupError)


async def test_a_batch_returning_the_wrong_number_of_results_fails_every_key():
    async def short(keys: list[int]) -> list[int]:
        return keys[:1]

    loader = DataLoader(short)
    results = await asyncio.gather(loader.load(1), loader.load(2), return_exceptions=True)
    assert all(isinstance(r, RuntimeError) for r in results)


@pytest.mark.parametrize("while_", ["gathering", "loading"])
async def test_when_the_first_caller_is_cancelled_the_others_are_not_left_waiting(while_: str):
    batch = Recorder()
    batch.release.clear()
    loader = DataLoader(batch)
    first = asyncio.ensure_future(loader.load(1))
    second = asyncio.ensure_future(loader.load(2))
    await asyncio.sleep(0)  # both have asked; the first is the batch's leader
    if while_ == "loading":
        await asyncio.sleep(0)
        assert batch.calls == [[1, 2]]
    first.cancel()
    _, pending = await asyncio.wait([first, second], timeout=2)
    assert not pending
    assert first.cancelled() and second.cancelled()
    batch.release.set()
    assert await loader.load(2) == 20  # a cancelled key is loaded afresh


async def test_alone_a_load_runs_its_batch_at_once_and_load_many_is_still_one_batch():
    batch = Recorder()
    loader = DataLoader(batch)
    turned: list[bool] = []
    asyncio.get_running_loop().call_soon(turned.append, True)
    token = LOADS_ALONE.set(asyncio.current_task())
    try:
        assert await loader.load(1) == 10
        assert turned == []  # no turn of the loop was taken
        assert await loader.load_many([2, 3, 2, 1]) == [20, 30, 20, 10]
    finally:
        LOADS_ALONE.reset(token)
    assert batch.calls == [[1], [2, 3]]


async def test_load_many_joins_a_batch_already_open():
    batch = Recorder()
    loader = DataLoader(batch)
    assert await asyncio.gather(loader.load(1), loader.load_many([2, 1, 3])) == [10, [20, 10, 30]]
    assert batch.calls == [[1, 2, 3]]


async def _alone(load: Any) -> Any:
    token = LOADS_ALONE.set(asyncio.current_task())
    try:
        return await load
    finally:
        LOADS_ALONE.reset(token)


async def test_alone_a_key_keeps_its_outcome_and_a_cancelled_load_keeps_none():
    batch = Recorder(results={2: ValueError("no such key")})
    loader = DataLoader(batch)
    token = LOADS_ALONE.set(asyncio.current_task())
    try:
        assert await loader.load(1) == 10
        assert await loader.load(1) == 10
        for _ in range(2):
            with pytest.raises(ValueError, match="no such key"):
                await loader.load(2)
        batch.release.clear()
        pending = asyncio.ensure_future(_alone(loader.load(3)))  # a task of its own, alone too
        await asyncio.sleep(0)
        pending.cancel()
        with pytest.raises(asyncio.CancelledError):
            await pending
        batch.release.set()
        assert await loader.load(3) == 30
        assert await loader.load_many([1, 3, 4]) == [10, 30, 40]
    finally:
        LOADS_ALONE.reset(token)
    assert batch.calls == [[1], [2], [3], [3], [4]]


async def test_alone_a_failed_batch_is_kept_for_later_loads_of_its_key():
    batch = Recorder(fail=RuntimeError("database gone"))
    loader = DataLoader(batch)
    token = LOADS_ALONE.set(asyncio.current_task())
    try:
        for _ in range(2):
            with pytest.raises(RuntimeError, match="database gone"):
                await loader.load(1)
    finally:
        LOADS_ALONE.reset(token)
    assert batch.calls == [[1]]


async def test_alone_loads_a_resolver_gathers_itself_are_still_one_batch():
    """A resolver run alone may start loads side by side (`asyncio.gather`): they run in tasks of their own, which
    inherit `LOADS_ALONE` but are not the task it names, so they wait the turn and batch together."""
    batch = Recorder()
    loader = DataLoader(batch)
    token = LOADS_ALONE.set(asyncio.current_task())
    try:
        assert await asyncio.gather(loader.load(1), loader.load(2), loader.load_many([3, 1])) == [10, 20, [30, 10]]
    finally:
        LOADS_ALONE.reset(token)
    assert batch.calls == [[1, 2, 3]]
