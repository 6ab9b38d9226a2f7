"""Rules for inputs: values that must fit their variable's type, and SQLModel `Create`/`Update` validation."""

import math
import re
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from db.models import VariableType
from schema.errors import InvalidInputError

M = TypeVar("M", bound=BaseModel)
MAX_TEXT = 10_000
MAX_NESTING = 32  # arrays and objects inside one another in a JSON value
# Numbers are kept exactly below this magnitude; beyond it JSON parsers (ours included) turn integers into doubles.
MAX_MAGNITUDE = 2**63
_INTEGER = re.compile(r"[+-]?[0-9]+")


class ValueRejected(ValueError):
    pass


def coerce_value(kind: VariableType, raw: Any) -> tuple[Any, float | None]:
    """The value to store and, for numbers, its numeric form. Raises ValueRejected with a reason."""
    if raw is None:
        raise ValueRejected("value is required")
    if kind is VariableType.NUMBER:
        if isinstance(raw, bool):
            raise ValueRejected("a number variable takes a number, not true/false")
        stored: Any
        if isinstance(raw, int | float):
            stored = raw
        elif isinstance(raw, str):
            text = raw.strip()
            try:  # an integer's text is read exactly: through a float, 2^63 - 1 would round up to 2^63
                stored = int(text) if _INTEGER.fullmatch(text) else float(text)
            except ValueError:
                raise ValueRejected(f"{raw[:50]!r} is not a number") from None
        else:
            raise ValueRejected("a number variable takes a number or a numeric string")
        if isinstance(stored, float) and not math.isfinite(stored):
            raise ValueRejected("a number must be finite")
        if not -MAX_MAGNITUDE < stored < MAX_MAGNITUDE:  # compared exactly, an int as an int
            raise ValueRejected("a number's magnitude must be below 2^63 (send larger ones as text)")
        return stored, float(stored)
    if kind is VariableType.BOOLEAN:
        if isinstance(raw, bool):
            return raw, None
        if isinstance(raw, str) and raw.strip().lower() in ("true", "false"):
            return raw.strip().lower() == "true", None
        raise ValueRejected("a boolean variable takes true or false")
    if kind is VariableType.TEXT:
        if not isinstance(raw, str):
            raise ValueRejected("a text variable takes a string")
        if len(raw) > MAX_TEXT:
            raise ValueRejected(f"text longer than {MAX_TEXT} characters")
        return raw, None
    check_json(raw)
    return raw, None


def check_json(value: Any, depth: int = 0) -> None:
    """A JSON value stores exactly what was sent: nesting within `MAX_NESTING`, numbers within `MAX_MAGNITUDE`."""
    if isinstance(value, dict | list):
        if depth >= MAX_NESTING:
            raise ValueRejected(f"a JSON value may nest arrays and objects {MAX_NESTING} deep at most")
        for item in value.values() if isinstance(value, dict) else value:
            check_json(item, depth + 1)
    elif isinstance(value, int | float) and not isinstance(value, bool):
        if not -MAX_MAGNITUDE < value < MAX_MAGNITUDE:
            raise ValueRejected("a number's magnitude must be below 2^63 (send larger ones as text)")


def validated(model: type[M], data: dict[str, Any]) -> M | InvalidInputError:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or None
        return InvalidInputError(message=f"{field}: {first['msg']}" if field else first["msg"], field=field)
