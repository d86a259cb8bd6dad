"""The alert list's order as an index: (updated_at, id)

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 11:50:00

`GET /api/alerts` answers newest first (`ORDER BY updated_at DESC, id DESC`, a page at a time);
without an index on that order every alert was read and sorted for each request.
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.create_index('ix_alerts_updated_at_id', ['updated_at', 'id'], unique=False)


def downgrade():
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.drop_index('ix_alerts_updated_at_id')
