"""The GraphQL execution engine: runs the schema's documents faster than graphql-core's general executor, with
the same answers. It knows nothing of this app; the app gives it what it needs through this interface:

    FastSchema(..., inline_serializers={serialize: Inline(code, names)})   execution.schema
        a Strawberry schema whose accepted documents are then run from compiled plans; `inline_serializers`
        says how a scalar's serializer may be written out in generated code (the app's DateTime)
    Rows(row_shape(cls), rows)                                              execution.rows
        a list result that stays database rows until read: plans read the rows, anything else sees objects
    DataLoader(batch)                                                       execution.dataloader
        loads asked for together run as one batch
    Prepared statements' driver path                                        execution.statements
        a Core statement compiled once per dialect and sent straight to psycopg
    compat.supported()                                                      execution.compat
        whether the installed graphql-core, Strawberry and SQLAlchemy are the versions the engine was tested
        with; every use of their non-public modules is in that one module

Importing this package imports none of those internals: the app imports `execution.schema` only when
`compat.supported()` says it may, and otherwise runs plain Strawberry.
"""

from execution.dataloader import DataLoader
from execution.inline import Inline
from execution.rows import Row, Rows, RowShape, row_shape

__all__ = ["DataLoader", "Inline", "Row", "RowShape", "Rows", "row_shape"]
