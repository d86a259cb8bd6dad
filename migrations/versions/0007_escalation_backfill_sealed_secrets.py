"""supervisor escalation groups, backfill scans, webhook secrets encrypted at rest

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 06:09:30.950470

The upgrade encrypts every stored webhook secret with the first key of WEBHOOK_SECRET_KEYS (or
the key derived from SECRET_KEY) of the app that runs it; the downgrade decrypts them, so it
needs a key that still decrypts every row. Downgrading gives each escalation group (no scan) the
latest scan of its alerts, since 0005 requires one.
"""
from alembic import op
import sqlalchemy as sa

from warning.notify.sealing import seal, unseal


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

webhooks = sa.table('webhooks', sa.column('id', sa.Integer()), sa.column('secret', sa.String()),
                    sa.column('secret_encrypted', sa.String()))


def _convert(source, target, how) -> None:
    conn = op.get_bind()
    for hook_id, value in conn.execute(sa.select(webhooks.c.id, webhooks.c[source])).all():
        conn.execute(webhooks.update().where(webhooks.c.id == hook_id).values({target: how(value)}))


def upgrade():
    with op.batch_alter_table('alert_groups', schema=None) as batch_op:
        batch_op.add_column(sa.Column('user_id', sa.Integer(), nullable=True))
        batch_op.alter_column('scan_id', existing_type=sa.Integer(), nullable=True)
        batch_op.create_foreign_key(batch_op.f('fk_alert_groups_user_id_users'), 'users', ['user_id'], ['id'])

    with op.batch_alter_table('scans', schema=None) as batch_op:
        batch_op.add_column(sa.Column('backfill', sa.Boolean(), server_default=sa.text('false'), nullable=False))

    with op.batch_alter_table('webhooks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('secret_encrypted', sa.String(length=1000), nullable=True))
    _convert('secret', 'secret_encrypted', seal)
    with op.batch_alter_table('webhooks', schema=None) as batch_op:
        batch_op.alter_column('secret_encrypted', existing_type=sa.String(length=1000), nullable=False)
        batch_op.drop_column('secret')


def downgrade():
    with op.batch_alter_table('webhooks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('secret', sa.VARCHAR(length=200), nullable=True))
    _convert('secret_encrypted', 'secret', unseal)
    with op.batch_alter_table('webhooks', schema=None) as batch_op:
        batch_op.alter_column('secret', existing_type=sa.VARCHAR(length=200), nullable=False)
        batch_op.drop_column('secret_encrypted')

    with op.batch_alter_table('scans', schema=None) as batch_op:
        batch_op.drop_column('backfill')

    op.execute("UPDATE alert_groups SET scan_id = COALESCE("
               "(SELECT MAX(alerts.last_scan_id) FROM alerts WHERE alerts.group_id = alert_groups.id), "
               "(SELECT MAX(scans.id) FROM scans)) WHERE scan_id IS NULL")
    with op.batch_alter_table('alert_groups', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_alert_groups_user_id_users'), type_='foreignkey')
        batch_op.alter_column('scan_id', existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column('user_id')
