"""batch list indexes for 20 million batches: keyset ranges per filter, failures apart

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 06:20:00

Each filtered list (category, region, enterprise) is walked newest first from its cursor;
with the id as the last column the (sampled_on, id) keyset is an index range, so a deep
page costs what the first one does. The enterprise index replaces the plain one (it still
serves the foreign key). A category with a region has its own index (each alone matches
~1 % of the batches, together a few hundred). Failed batches (~3 %) get a partial index of their own.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

FAILED = "conclusion = 'fail'"


def upgrade():
    with op.batch_alter_table('batches', schema=None) as batch_op:
        batch_op.drop_index('ix_batches_category_sampled')
        batch_op.drop_index('ix_batches_region_sampled')
        batch_op.drop_index('ix_batches_enterprise_id')
        batch_op.create_index('ix_batches_category_sampled_id', ['category_code', 'sampled_on', 'id'], unique=False)
        batch_op.create_index('ix_batches_region_sampled_id', ['region_code', 'sampled_on', 'id'], unique=False)
        batch_op.create_index('ix_batches_enterprise_sampled_id', ['enterprise_id', 'sampled_on', 'id'], unique=False)
        batch_op.create_index('ix_batches_category_region_sampled_id',
                              ['category_code', 'region_code', 'sampled_on', 'id'], unique=False)
        batch_op.create_index('ix_batches_failed_sampled_id', ['sampled_on', 'id'], unique=False,
                              postgresql_where=sa.text(FAILED), sqlite_where=sa.text(FAILED))


def downgrade():
    with op.batch_alter_table('batches', schema=None) as batch_op:
        batch_op.drop_index('ix_batches_failed_sampled_id')
        batch_op.drop_index('ix_batches_category_region_sampled_id')
        batch_op.drop_index('ix_batches_enterprise_sampled_id')
        batch_op.drop_index('ix_batches_region_sampled_id')
        batch_op.drop_index('ix_batches_category_sampled_id')
        batch_op.create_index('ix_batches_enterprise_id', ['enterprise_id'], unique=False)
        batch_op.create_index('ix_batches_region_sampled', ['region_code', 'sampled_on'], unique=False)
        batch_op.create_index('ix_batches_category_sampled', ['category_code', 'sampled_on'], unique=False)
