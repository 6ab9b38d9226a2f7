"""Property tests (hypothesis) of the value coercion and the parameter parsers: whatever arrives, the answer is a
clear refusal or a value kept exactly."""

from __future__ import annotations

import math
import uuid
from typing import Any

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from access.errors import APIError
from db.models import VariableType
from rest import params
from schema.validation import MAX_MAGNITUDE, ValueRejected, coerce_value

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=40,
)


@settings(max_examples=400, deadline=None)
@given(value=json_values, kind=st.sampled_from(list(VariableType)))
def test_a_value_is_refused_or_stored_exactly_as_sent(value: Any, kind: VariableType) -> None:
    try:
        stored, number = coerce_value(kind, value)
    except ValueRejected:
        return
    assert orjson.loads(orjson.dumps(stored)) == stored  # what is stored can be written and read back
    if kind is VariableType.NUMBER:
        assert number is not None and math.isfinite(number) and abs(number) < MAX_MAGNITUDE
        if not isinstance(value, str):
            assert stored == value
    elif kind is VariableType.JSON:
        assert stored == value or (isinstance(value, float) and math.isnan(value))
    else:
        assert stored == value


@settings(max_examples=300, deadline=None)
@given(raw=st.text() | st.integers().map(str))
def test_an_id_is_refused_or_canonical(raw: str) -> None:
    try:
        checked = params.as_id(raw, "id")
    except APIError as exc:
        assert exc.status == 400
        return
    assert str(uuid.UUID(checked)) == checked.lower() or checked == str(uuid.UUID(raw))


class _Request:
    def __init__(self, query: dict[str, str]) -> None:
        self.query_params = query
        self.scope = {"query_string": b"x" if query else b""}


@settings(max_examples=300, deadline=None)
@given(raw=st.text() | st.integers().map(str))
def test_a_page_parameter_is_refused_or_within_its_documented_range(raw: str) -> None:
    try:
        page = params.page(_Request({"limit": raw, "offset": raw}))  # type: ignore[arg-type]  # what `page` reads
    except APIError as exc:
        assert exc.status == 400 and exc.code == "invalid_parameter"
        return
    assert 1 <= page["limit"] <= params.MAX_LIMIT and 0 <= page["offset"] <= params.MAX_OFFSET
