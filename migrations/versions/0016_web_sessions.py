"""Signed-in browsers are recorded on the server, so signing out ends a session for good

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02 10:00:00

The pages' session was only Flask's signed cookie: after "sign out" a copy of the cookie taken
before (a shared office computer, a proxy log, malware) kept working until the 10-hour limit,
and each use refreshed the idle timestamp inside the cookie itself. Each sign-in now gets a row
here (the cookie carries a random id, the row only its SHA-256 digest); signing out, the idle and
absolute limits, disabling the account and a new password end the row, and a cookie whose row is
missing or ended signs nobody in. Idle time is measured from the row's last_seen_at.

Upgrading signs everybody out of the pages once: cookies from before carry no session id. API
tokens are not affected.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('web_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('ended_reason', sa.String(length=16), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_web_sessions_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_web_sessions')),
    sa.UniqueConstraint('digest', name=op.f('uq_web_sessions_digest'))
    )
    with op.batch_alter_table('web_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_web_sessions_user_id'), ['user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('web_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_web_sessions_user_id'))
    op.drop_table('web_sessions')
