"""Scans record who ran them

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01 16:40:00

A scan's alerts were attributable to the scan (its times, model and settings) but not to who
started it: `flask warning scan` by an operator, or the worker's schedule. The lease named the
holder and was released with the scan. Scans before this migration keep NULL (not recorded).
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('scans', schema=None) as batch_op:
        batch_op.add_column(sa.Column('run_by', sa.String(length=200), nullable=True))


def downgrade():
    with op.batch_alter_table('scans', schema=None) as batch_op:
        batch_op.drop_column('run_by')
