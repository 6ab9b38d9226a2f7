"""Hardening: idempotent claims name their learners, sign-in links their invitation, the demo organization is marked

- `idempotency_keys.learner_ids`: the learners a claimed write names, so that erasing one removes the claim (and the
  answer stored under it later finds nothing to store into);
- `login_links.invitation_id`: the invitation an invitation's link accepts (that one only);
- `organizations.is_demo`: the organization `coursepipeline quickstart` made, the only one the API docs take
  examples from.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-08 01:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("idempotency_keys") as batch:
        batch.add_column(sa.Column("learner_ids", sa.Text(), nullable=True))
    with op.batch_alter_table("login_links") as batch:
        batch.add_column(sa.Column("invitation_id", sa.Uuid(), nullable=True))
    with op.batch_alter_table("organizations") as batch:
        batch.add_column(sa.Column("is_demo", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("organizations") as batch:
        batch.drop_column("is_demo")
    with op.batch_alter_table("login_links") as batch:
        batch.drop_column("invitation_id")
    with op.batch_alter_table("idempotency_keys") as batch:
        batch.drop_column("learner_ids")
