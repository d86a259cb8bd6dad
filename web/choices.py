"""Select options from the reference trees, named in the page's language."""
from __future__ import annotations

from flask_babel import gettext as _

from core.extensions import db
from core.reference.models import ALL_PRODUCTS
from core.reference.trees import PROVINCE, Tree, load_trees
from web.i18n import node_name


def _walk(tree: Tree, codes: list[str], depth: int = 0):
    for code in codes:
        yield code, "\u3000" * depth + node_name(tree.nodes[code])
        yield from _walk(tree, tree.kids(code), depth + 1)


def category_choices(blank: str | None = None, include_all: bool = False) -> list[tuple[str, str]]:
    tree = load_trees(db.session).categories
    head = [("", blank)] if blank is not None else []
    if include_all:
        head.append((ALL_PRODUCTS, _("All products")))
    return head + list(_walk(tree, tree.roots()))


def region_choices(scope: str | None, blank: str | None = None) -> list[tuple[str, str]]:
    """The regions of the user's subtree, indented under their parents."""
    tree = load_trees(db.session).regions
    head = [("", blank)] if blank is not None else []
    return head + list(_walk(tree, [scope or PROVINCE]))
