"""value page indexes

A page of a variable's values is ordered by (recorded_at, id) and filtered by variable, or by learner and
variable. The old indexes held (variable_id, recorded_at) and (learner_id, recorded_at): without the id tie-break
PostgreSQL sorted what it read, and once newer values of other variables piled up it preferred walking the
organization's time index instead, filtering out hundreds of thousands of rows for one page of a big variable.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 23:25:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("variable_values", schema=None) as batch_op:
        batch_op.drop_index("ix_values_variable_time")
        batch_op.drop_index("ix_values_learner_time")
        batch_op.create_index("ix_values_variable_page", ["variable_id", "recorded_at", "id"], unique=False)
        batch_op.create_index(
            "ix_values_learner_page", ["learner_id", "variable_id", "recorded_at", "id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("variable_values", schema=None) as batch_op:
        batch_op.drop_index("ix_values_learner_page")
        batch_op.drop_index("ix_values_variable_page")
        batch_op.create_index("ix_values_learner_time", ["learner_id", "recorded_at"], unique=False)
        batch_op.create_index("ix_values_variable_time", ["variable_id", "recorded_at"], unique=False)
