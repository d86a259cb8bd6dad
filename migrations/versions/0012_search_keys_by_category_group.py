"""The search index also holds each product gram within its category group (PostgreSQL)

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30 23:00:00

With 0011's index a list searching a word under a category intersects two lists of the index:
the word's and the categories'. Product words follow their categories, so a word common in the
table and absent under the filter meets two long lists with nothing in common, and GIN walks
both to the end: 食 among all drugs at 22.4 million batches, 172 ms, no result; 食 in food.aquatic
96 ms. `batch_search_keys(...)` gives each batch 0011's keys and, per gram of its product, one
more: `g:<group>:<gram>`, the group being the category code's first two parts (53 groups:
`food.aquatic`, `drug.chemical`, ...; a category of one or two parts is its own group). A search
under a category asks for the word's grams in the groups the filter spans; no group has the word:
those lists are empty and the scan ends at once.

The new index replaces 0011's, built CONCURRENTLY so batches can still be written meanwhile. It
holds about twice 0011's entries (each gram twice). The old function stays until the old index
is gone: until then the code of the previous release still searches with it.
"""
from alembic import op
from sqlalchemy import text


# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

# As 0011's search_keys (immutable, not strict, grams in characters), with the grouped grams.
# The key formats are inspection.services.search's; no key of one kind equals one of another:
# grams are one or two characters, the other keys longer and starting with their kind.
FUNCTION = """
CREATE OR REPLACE FUNCTION batch_search_keys(product text, category_code text, region_code text,
                                             sampled_on date, conclusion text) RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT ARRAY(SELECT k
               FROM (SELECT DISTINCT substr(product, i, n) AS gram
                     FROM generate_series(1, length(product)) AS i, (VALUES (1), (2)) AS w (n)
                     WHERE i + n - 1 <= length(product)) AS grams,
                    (SELECT array_to_string((string_to_array(category_code, '.'))[1:2], '.') AS code) AS grp,
                    LATERAL (VALUES (gram), ('g:' || grp.code || ':' || gram)) AS keys (k))
         || ARRAY['c:' || category_code, 'r:' || region_code,
                  'm:' || (extract(year FROM sampled_on)::int * 12 + extract(month FROM sampled_on)::int - 1)]
         || CASE WHEN conclusion = 'fail' THEN ARRAY['k:fail'] ELSE '{}'::text[] END
$$
"""

# 0011's function, for the downgrade.
KEYS_0011 = """
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

COLUMNS = "product, category_code, region_code, sampled_on, conclusion"


def _build(name: str, function: str, replaces: str) -> None:
    """Build index `name` on `function`(COLUMNS) CONCURRENTLY, then drop `replaces`. A build
    interrupted before (the process killed, a lost connection: a quarter of an hour at 22
    million batches) leaves its index INVALID, unused by queries yet found by IF NOT EXISTS:
    it is dropped first, or the rerun would drop the working index and keep the broken one."""
    with op.get_context().autocommit_block():
        invalid = op.get_bind().execute(text(
            "SELECT NOT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "WHERE c.relname = :name AND pg_table_is_visible(c.oid)"), {"name": name}).scalar()
        if invalid:
            op.execute(f'DROP INDEX CONCURRENTLY {name}')
        op.execute(f'CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON batches USING gin ({function}({COLUMNS}))')
        op.execute(f'DROP INDEX CONCURRENTLY IF EXISTS {replaces}')


def upgrade():
    if op.get_bind().dialect.name != 'postgresql':
        return
    op.execute(FUNCTION)
    _build('ix_batches_batch_search_keys', 'batch_search_keys', replaces='ix_batches_search_keys')
    op.execute('DROP FUNCTION IF EXISTS search_keys(text, text, text, date, text)')


def downgrade():
    if op.get_bind().dialect.name != 'postgresql':
        return
    op.execute(KEYS_0011)
    _build('ix_batches_search_keys', 'search_keys', replaces='ix_batches_batch_search_keys')
    op.execute('DROP FUNCTION IF EXISTS batch_search_keys(text, text, text, date, text)')
