"""Users carry their full name

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01 22:15:00

Histories, the audit log and the page header named people by their login name only ("wang3"),
where a regulator's records name the officer ("王强"). Optional: accounts made before keep NULL
and are shown by their username as before.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('full_name', sa.String(length=64), nullable=True))


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('full_name')
