"""`Bounded`: a least-recently-used map bounded in entries and in weight, for every cache keyed by what callers send.

A cache bounded in entries alone is bounded in memory only if its entries are: a parsed document of 1,600 aliased
fields weighs megabytes, so a few hundred distinct ones would grow a process by gigabytes. Each cache here weighs
an entry by the length of the document text it stands for (its parsed form, plan and memos grow with that length),
and evicts the least recently used entries until both bounds hold. A single entry heavier than the whole budget is
not kept at all: it is simply made again when asked for.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Generic, TypeVar

from graphql import DocumentNode, Node

K = TypeVar("K")
V = TypeVar("V")

# Document text kept by each cache, in characters. With the memory a character of document costs across the
# caches (parsed node, plan, memos), this keeps a flood of distinct documents within the documented growth.
MAX_WEIGHT = 256 * 1024


class Bounded(Generic[K, V]):
    def __init__(self, maxsize: int, max_weight: int = MAX_WEIGHT) -> None:
        self.maxsize = maxsize
        self.max_weight = max_weight
        self.weight = 0
        self._entries: OrderedDict[K, tuple[V, int]] = OrderedDict()

    def get(self, key: K) -> V | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        self._entries.move_to_end(key)
        return entry[0]

    def __contains__(self, key: K) -> bool:
        return key in self._entries

    def put(self, key: K, value: V, weight: int) -> None:
        old = self._entries.pop(key, None)
        if old is not None:
            self.weight -= old[1]
        if weight > self.max_weight:
            return
        self._entries[key] = (value, weight)
        self.weight += weight
        while len(self._entries) > self.maxsize or self.weight > self.max_weight:
            _, (_, dropped) = self._entries.popitem(last=False)
            self.weight -= dropped

    def __len__(self) -> int:
        return len(self._entries)


def weight_of(node: DocumentNode | Node) -> int:
    """A parsed document's (or operation's) weight: the length of the text it was parsed from."""
    loc = node.loc
    return loc.end - loc.start if loc is not None else 1024
