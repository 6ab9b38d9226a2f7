"""The DataLoader behind `schema.loaders`: one batch call for the keys asked for in the same turn of the event loop.

Strawberry's DataLoader schedules each batch as a task of its own, from a callback, with a done-callback on every
key's future. Per request (each request makes its own loaders, and most load one key at a time) that costs
several times the Python work of the lookup itself. This one keeps the contract
(keys asked for together are batched, a key is loaded once per loader, a failed batch fails each of its keys)
with less machinery: the first caller of a batch yields once, so that sibling resolvers started in the same turn
add their keys, and then runs the batch in its own task while the others wait on their futures.

That turn of the loop is skipped where nothing could add a key meanwhile: while `LOADS_ALONE` names the running
task. A compiled operation sets it for as long as no two of its resolvers run at once (`execution.plans`); one
that does run several at once clears it for them. Tasks a resolver starts itself (`asyncio.gather`,
`create_task`) inherit the variable but are other tasks, so their loads take the turn and batch together. A
resolver that wants several keys of one loader asks with `load_many`, which queues them all before the batch
runs, whether or not the turn is taken. Alone, a single load needs no future either: nothing else can wait for
its key meanwhile, so it runs its one-key batch itself and keeps the outcome as a `_Settled` for later loads
(on Python 3.11, each future's loop lookup is a system call).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Generator, Hashable, Iterable, Sequence
from contextvars import ContextVar
from typing import Any, Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

# The task in which no other resolver of the request can run beside the current one (see the module docstring).
LOADS_ALONE: ContextVar[asyncio.Task[Any] | None] = ContextVar("coursepipeline_loads_alone", default=None)


def alone() -> bool:
    """Whether nothing can add a key to a batch meanwhile: the running task is the one `LOADS_ALONE` names."""
    task = LOADS_ALONE.get()
    return task is not None and task is asyncio.current_task()


class _Settled(Generic[V]):
    """A key's outcome from a load that ran alone: awaited and checked like the finished future it stands for."""

    __slots__ = ("error", "value")

    def __init__(self, value: V | None, error: BaseException | None = None) -> None:
        self.value = value
        self.error = error

    def cancelled(self) -> bool:
        return False

    def __await__(self) -> Generator[None, None, V]:
        if self.error is not None:
            raise self.error
        return self.value  # type: ignore[return-value]  # set whenever `error` is not
        yield  # a generator, so that `await` accepts it; never reached


class DataLoader(Generic[K, V]):
    def __init__(self, batch: Callable[[list[K]], Awaitable[Sequence[V | BaseException]]]) -> None:
        self.batch = batch
        self._results: dict[K, asyncio.Future[V] | _Settled[V]] = {}
        self._queue: list[tuple[K, asyncio.Future[V]]] | None = None  # the batch still open for keys

    async def load(self, key: K) -> V:
        known = self._results.get(key)
        if known is not None and not known.cancelled():
            return await known
        if self._queue is None and alone():
            # Inline rather than a method of its own: a coroutine fewer on every lone load, the commonest.
            try:
                values = await self.batch([key])
                if len(values) != 1:
                    raise RuntimeError(f"a batch of 1 key returned {len(values)} results")
            except Exception as exc:
                self._results[key] = _Settled(None, exc)
                raise
            value = values[0]
            if isinstance(value, BaseException):
                self._results[key] = _Settled(None, value)
                raise value
            self._results[key] = _Settled(value)
            return value
        future = self._results[key] = asyncio.get_running_loop().create_future()
        if self._queue is not None:
            self._queue.append((key, future))
        else:
            await self._run_after_a_turn([(key, future)])
        return await future

    async def load_many(self, keys: Iterable[K]) -> list[V]:
        futures, queued = [], []
        loop = asyncio.get_running_loop()
        for key in keys:
            known = self._results.get(key)
            if known is None or known.cancelled():
                known = self._results[key] = loop.create_future()
                queued.append((key, known))
            futures.append(known)
        if queued and self._queue is not None:
            self._queue.extend(queued)
        elif queued:
            await self._dispatch(queued)
        return await asyncio.gather(*futures)

    def _dispatch(self, queue: list[tuple[K, asyncio.Future[V]]]) -> Awaitable[None]:
        """Runs a batch of `queue`: at once when alone, otherwise after one turn of the loop."""
        return self._run(queue) if alone() else self._run_after_a_turn(queue)

    async def _run_after_a_turn(self, queue: list[tuple[K, asyncio.Future[V]]]) -> None:
        self._queue = queue
        try:
            await asyncio.sleep(0)  # one turn: siblings scheduled beside this caller add their keys meanwhile
        except BaseException:
            _cancel(queue)
            raise
        finally:
            self._queue = None
        await self._run(queue)

    async def _run(self, queue: list[tuple[K, asyncio.Future[V]]]) -> None:
        """Settles every future of the batch: a value, or the error, for each key."""
        try:
            values = await self.batch([key for key, _ in queue])
            if len(values) != len(queue):
                raise RuntimeError(f"a batch of {len(queue)} keys returned {len(values)} results")
        except Exception as exc:
            for _, future in queue:
                if not future.done():
                    future.set_exception(exc)
            return
        except BaseException:
            _cancel(queue)
            raise
        for (_, future), value in zip(queue, values, strict=True):
            if future.done():
                continue
            if isinstance(value, BaseException):
                future.set_exception(value)
            else:
                future.set_result(value)


def _cancel(queue: list[tuple[K, asyncio.Future[V]]]) -> None:
    """The batch's first caller was cancelled (its request is going away): the keys it held are cancelled too,
    rather than left waiting forever, and a later load of any of them runs afresh."""
    for _, future in queue:
        future.cancel()
