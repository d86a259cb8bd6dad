"""Users can be made to choose a new password at their next sign-in

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01 21:20:00

A user who forgot their password had no way back in: only the user could change it, knowing the
old one. An administrator now resets it to a temporary password, shown once, which the user must
replace before any page opens. Existing accounts are not affected (false).
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('must_change_password', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('must_change_password')
