"""How the app tells the engine to write one of its scalar serializers out in generated code."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Inline:
    """A scalar serializer written out in generated leaf code instead of called: `code` is an expression over `v`
    (the value, never None) and `{call}` (the serializer itself, for the cases the expression does not cover),
    with `names` in scope. The expression must answer exactly what the serializer would."""

    code: str
    names: Mapping[str, Any] = field(default_factory=dict)
