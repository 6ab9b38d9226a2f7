"""`Prepared` statements as the driver gets them: positional placeholders, and each parameter bound in its place."""

from __future__ import annotations

from db.prepared import Compiled


def test_named_placeholders_become_positional_and_percent_signs_stay_escaped():
    compiled = Compiled.positional(
        "SELECT %(a)s, '%%(x)s', 100%%%(b)s FROM t WHERE b = %(b)s AND c = %(a)s",
        defaults={"a": None, "b": 7},
        processors={"a": lambda value: value * 2},
    )
    assert compiled.sql == "SELECT %s, '%%(x)s', 100%%%s FROM t WHERE b = %s AND c = %s"
    assert compiled.order == ("a", "b", "b", "a")
    assert compiled.bind({"a": 5}) == (10, 7, 7, 10)  # given, processed, and a default where none was given
