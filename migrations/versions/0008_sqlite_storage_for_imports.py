"""SQLite storage for fast imports: the (category, region) list index on PostgreSQL only, the
series aggregate clustered by its key

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 09:20:00

Both change SQLite only; PostgreSQL is untouched.

* The (category, region, sampled_on, id) index serves a category-with-region list at tens of
  millions of batches on PostgreSQL. On SQLite, the embedded database of small deployments,
  its upkeep cost every import ~20 % (1,000,000 batches: 14,532 rows/s with it, 18,094
  without, back to back), and the category index with the rowid answers those lists there.
* series_months becomes a WITHOUT ROWID table: its rows live in the primary key's B-tree
  instead of a rowid table plus a second B-tree for the key, so the aggregate upsert of an
  import (~280,000 keys for 100,000 rows) writes one tree, and statistics read a range of it.
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

INDEX = 'ix_batches_category_region_sampled_id'


def _rebuild_series_months(with_rowid: bool) -> None:
    with op.batch_alter_table('series_months', recreate='always',
                              table_kwargs={'sqlite_with_rowid': with_rowid}):
        pass


def upgrade():
    if op.get_bind().dialect.name == 'sqlite':
        op.drop_index(INDEX, table_name='batches')
        _rebuild_series_months(with_rowid=False)


def downgrade():
    if op.get_bind().dialect.name == 'sqlite':
        _rebuild_series_months(with_rowid=True)
        op.create_index(INDEX, 'batches', ['category_code', 'region_code', 'sampled_on', 'id'], unique=False)
