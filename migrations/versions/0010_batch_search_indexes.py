"""Indexes for the batch list's free-text search (PostgreSQL): sample-number prefixes and
product-name substrings

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30 14:30:00

The list's search matches a sample number's beginning (`LIKE 'x%'`) or any part of the product
name (`LIKE '%x%'`). Neither could use an index: the unique index on sample_no follows the
database collation, which PostgreSQL does not use for LIKE unless it is "C", and a substring has
no B-tree at all. At 22 million batches a search for a word no batch has read every row (125 s).

* `ix_batches_sample_no_prefix`: sample_no in `varchar_pattern_ops`, which serves `LIKE 'x%'`
  under any collation.
* `search_grams(text)`: the distinct characters and two-character runs of a text. A GIN index
  on `search_grams(product)` finds the batches whose product has every two-character run of the
  search (or its one character), which the LIKE then checks. Bigrams, not pg_trgm's trigrams:
  most Chinese product words are two characters (牛奶, 大米), and a two-character search has no
  whole trigram, so a trigram index cannot serve it.

Both are built CONCURRENTLY (outside the migration's transaction), so batches can still be
written while they build (~5 minutes at 22 million batches). SQLite, the embedded database of
small deployments, searches by scanning as before.
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

# Immutable (an index expression must be), strict (NULL product: NULL, no match, as LIKE).
# Characters, not bytes: PostgreSQL's substr and length count characters in UTF-8, as Python's
# str does (inspection.services.queries.search_grams builds the query's side).
FUNCTION = """
CREATE OR REPLACE FUNCTION search_grams(value text) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT ARRAY(SELECT DISTINCT substr(value, i, n)
               FROM generate_series(1, length(value)) AS i, (VALUES (1), (2)) AS w (n)
               WHERE i + n - 1 <= length(value))
$$
"""


def upgrade():
    if op.get_bind().dialect.name != 'postgresql':
        return
    op.execute(FUNCTION)
    with op.get_context().autocommit_block():
        op.execute('CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_batches_sample_no_prefix '
                   'ON batches (sample_no varchar_pattern_ops)')
        op.execute('CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_batches_product_grams '
                   'ON batches USING gin (search_grams(product))')


def downgrade():
    if op.get_bind().dialect.name != 'postgresql':
        return
    op.execute('DROP INDEX IF EXISTS ix_batches_product_grams')
    op.execute('DROP INDEX IF EXISTS ix_batches_sample_no_prefix')
    op.execute('DROP FUNCTION IF EXISTS search_grams(text)')
