"""Object types made from database rows, and lists of them that stay rows until something reads an object.

A type's `RowShape` says once which row key holds each field and which fields are looked up from a stored value
(a variable's type, stored as text). `shape.build(row)` makes the object. `Rows(shape, rows)` is a sequence of
such objects that keeps the rows: graphql-core reads it as objects, built as it reads them, while a compiled plan
reads the rows themselves with a leaf plan generated for the shape (`execution.leaves.LeafPlans`). A learner's
values and a page of values are the hot paths' commonest results, and an object per row, made only to be read
back and dropped, was a large share of such a request's Python work.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, overload

T = TypeVar("T")
Row = Mapping[Any, Any]  # a database row by column name (SQLAlchemy's RowMapping types its keys loosely)


@dataclass(frozen=True, eq=False)
class RowShape(Generic[T]):
    cls: type[T]
    keys: dict[str, str]  # field -> row key, for every field its `__init__` sets
    lookups: dict[str, Mapping[Any, Any]]  # field -> the field's value for each stored value
    build: Callable[[Row], T]


_shapes: dict[type, RowShape[Any]] = {}


def row_shape(
    cls: type[T], renames: Mapping[str, str] | None = None, lookups: Mapping[str, Mapping[Any, Any]] | None = None
) -> RowShape[T]:
    """The shape of `cls`'s rows (made once per class): `renames` where a row key is not the field's name."""
    known = _shapes.get(cls)
    if known is not None:
        return known
    renames, lookups = renames or {}, dict(lookups or {})
    keys = {f.name: renames.get(f.name, f.name) for f in dataclasses.fields(cls) if f.init}  # type: ignore[arg-type]  # a dataclass, which the signature cannot say
    shape = RowShape(cls, keys, lookups, _builder(cls, keys, lookups))
    _shapes[cls] = shape
    return shape


def _builder(cls: type[T], keys: dict[str, str], lookups: dict[str, Mapping[Any, Any]]) -> Callable[[Row], T]:
    """A function from a row to `cls`, generated as dataclasses generate `__init__`.

    The object is made without calling its `__init__` and its fields are set at once: a dict of keyword
    arguments built per row cost more than the object itself, and even written-out keywords cost more than this.
    Only a class whose `__init__` does nothing but set its fields (a
    plain dataclass: no `__post_init__`, no field left out of `__init__`) is built this way."""
    namespace: dict[str, Any] = {"cls": cls, "new": object.__new__}
    reads = {}
    for i, (name, key) in enumerate(keys.items()):
        reads[name] = f"row[{key!r}]"
        if name in lookups:
            namespace[f"lookup{i}"] = lookups[name]
            reads[name] = f"lookup{i}[{reads[name]}]"
    plain = not hasattr(cls, "__post_init__") and all(f.init for f in dataclasses.fields(cls))  # type: ignore[arg-type]  # a dataclass, which the signature cannot say
    if plain and not hasattr(cls, "__slots__"):
        fields = ", ".join(f"{name!r}: {read}" for name, read in reads.items())
        source = f"def build(row):\n    obj = new(cls)\n    obj.__dict__ = {{{fields}}}\n    return obj\n"
    else:
        source = f"def build(row):\n    return cls({', '.join(f'{name}={read}' for name, read in reads.items())})\n"
    exec(source, namespace)
    return namespace["build"]


class Rows(Sequence[T]):
    """Objects of one type, kept as the rows they are made from until one is read."""

    __slots__ = ("rows", "shape")

    def __init__(self, shape: RowShape[T], rows: Sequence[Row]) -> None:
        self.shape = shape
        self.rows = rows

    def __len__(self) -> int:
        return len(self.rows)

    @overload
    def __getitem__(self, index: int) -> T: ...

    @overload
    def __getitem__(self, index: slice) -> list[T]: ...

    def __getitem__(self, index: int | slice) -> T | list[T]:
        if isinstance(index, slice):
            return [self.shape.build(row) for row in self.rows[index]]
        return self.shape.build(self.rows[index])

    def __iter__(self) -> Iterator[T]:
        return map(self.shape.build, self.rows)
