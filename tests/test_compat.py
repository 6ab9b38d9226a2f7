"""The engine runs only on the library versions it was tested with; elsewhere the app answers through plain
Strawberry, after one warning."""

from __future__ import annotations

import logging
import uuid

import pytest
from strawberry.dataloader import DataLoader as StrawberryDataLoader

from access.principal import ApiKeyPrincipal
from execution import DataLoader, compat
from schema.runtime import GraphQLRuntime
from tests.conftest import make_settings

INSTALLED = {"graphql-core": "3.3.2", "strawberry-graphql": "0.341.2", "sqlalchemy": "2.1.9"}


def test_the_installed_versions_are_the_tested_ones():
    assert compat.problems() == []


@pytest.mark.parametrize(
    ("name", "version"),
    [("graphql-core", "3.4.0"), ("graphql-core", "3.2.14"), ("strawberry-graphql", "0.342.0"),
     ("sqlalchemy", "2.2.0b1"), ("sqlalchemy", None)],
)  # fmt: skip
def test_a_version_outside_its_range_turns_the_engine_off_with_one_warning(name, version, caplog):
    assert compat.supported(INSTALLED)
    with caplog.at_level(logging.WARNING, logger="coursepipeline.execution"):
        assert not compat.supported({**INSTALLED, name: version})
    assert len(caplog.records) == 1 and name in caplog.records[0].getMessage()


async def test_with_the_engine_off_the_app_runs_plain_strawberry():
    from app.services import Services

    services = Services.build(make_settings(fast_execution=False))
    try:
        assert not services.graphql.fast and not hasattr(services.schema, "run_document")
        assert services.db._pool is None  # every statement through SQLAlchemy
        context = services.graphql.context(ApiKeyPrincipal(uuid.uuid4(), uuid.uuid4()))
        assert isinstance(context.loaders.course, StrawberryDataLoader)
    finally:
        await services.db.dispose()
    fast = GraphQLRuntime.build(services.db, lambda key_id: None, fast=True, secret="s" * 32)
    assert isinstance(fast.context(ApiKeyPrincipal(uuid.uuid4(), uuid.uuid4())).loaders.course, DataLoader)


def test_the_libraries_internals_are_touched_in_compat_alone():
    """Private constructors and attributes of graphql-core and Strawberry (and the import of either's internals)
    are named in `execution/compat.py` only, so a new release is checked in one place."""
    import re
    from pathlib import Path

    private = re.compile(r"_raw_info|_field=|_relevant_sub_fields|GraphQLResolveInfo\(|\._schema\b|_bind_processors")
    found = []
    for path in sorted(Path(compat.__file__).parent.glob("*.py")):
        if path.name == "compat.py":
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if private.search(line) and not line.lstrip().startswith("#"):
                found.append(f"{path.name}:{number}: {line.strip()}")
    assert found == []
