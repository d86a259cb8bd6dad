"""The search index also holds each batch's category, region, sampling month and a failed
conclusion (PostgreSQL)

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30 17:00:00

0010's GIN index on `search_grams(product)` finds the batches whose product has a word, but a
list that also filters by category, region, dates or conclusion had to intersect those batches
with the filter's rows elsewhere: for a word millions of batches have and none of the filter's,
PostgreSQL read every row of one side (食 in one vegetable category at 22 million batches:
181,000 rows, 1.3 s, no result). `search_keys(...)` adds to the product's grams one key each
for the category (`c:<code>`), the region (`r:<code>`), the sampling month (`m:<year * 12 +
month - 1>`) and, for a failed batch, `k:fail`; a list asks the index for the word's grams and
one of the keys its filters allow, and GIN intersects the keys' lists without reading a row.
The new index replaces 0010's, built CONCURRENTLY so batches can still be written meanwhile
(19 min 51 s at 22.4 million batches, 423 MB; 0010's was 290 MB). search_keys computes the
grams itself rather than calling search_grams, which is dropped: pg_restore runs with an empty
search_path, where a call from one function of ours to another is not found and the index
cannot be rebuilt (`flask restore` failed on exactly that).
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

# Immutable (an index expression must be; extract() from a date is). Not strict: a batch with no
# product (no grams) still has its other keys. The grams are 0010's search_grams (characters, not
# bytes: PostgreSQL's substr and length count characters in UTF-8, as Python's str does); the
# key formats are inspection.services.search's.
FUNCTION = """
CREATE OR REPLACE FUNCTION search_keys(product text, category_code text, region_code text, sampled_on date,
                                       conclusion text) RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT ARRAY(SELECT DISTINCT substr(product, i, n)
               FROM generate_series(1, length(product)) AS i, (VALUES (1), (2)) AS w (n)
               WHERE i + n - 1 <= length(product))
         || ARRAY['c:' || category_code, 'r:' || region_code,
                  'm:' || (extract(year FROM sampled_on)::int * 12 + extract(month FROM sampled_on)::int - 1)]
         || CASE WHEN conclusion = 'fail' THEN ARRAY['k:fail'] ELSE '{}'::text[] END
$$
"""

# 0010's function, for the downgrade.
GRAMS_0010 = """
CREATE OR REPLACE FUNCTION search_grams(value text) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT ARRAY(SELECT DISTINCT substr(value, i, n)
               FROM generate_series(1, length(value)) AS i, (VALUES (1), (2)) AS w (n)
               WHERE i + n - 1 <= length(value))
$$
"""

INDEX = ('CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_batches_search_keys ON batches USING gin '
         '(search_keys(product, category_code, region_code, sampled_on, conclusion))')


def upgrade():
    if op.get_bind().dialect.name != 'postgresql':
        return
    op.execute(FUNCTION)
    with op.get_context().autocommit_block():
        op.execute(INDEX)
        op.execute('DROP INDEX CONCURRENTLY IF EXISTS ix_batches_product_grams')
    op.execute('DROP FUNCTION IF EXISTS search_grams(text)')


def downgrade():
    if op.get_bind().dialect.name != 'postgresql':
        return
    op.execute(GRAMS_0010)
    with op.get_context().autocommit_block():
        op.execute('CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_batches_product_grams '
                   'ON batches USING gin (search_grams(product))')
        op.execute('DROP INDEX CONCURRENTLY IF EXISTS ix_batches_search_keys')
    op.execute('DROP FUNCTION IF EXISTS search_keys(text, text, text, date, text)')
