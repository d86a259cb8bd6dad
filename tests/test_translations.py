"""Every string the pages show is in the Chinese catalog, and the compiled catalog matches it.

Pages also show the services' messages (rule violations, import rejections), declared with
`core.messages.N_` in the domain packages: they are in the catalog too."""
from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from babel.support import Translations

ROOT = Path(__file__).resolve().parents[1]
WEB = ROOT / "web"
DOMAINS = ("core", "inspection", "followup", "warning")
CATALOG = WEB / "translations" / "zh" / "LC_MESSAGES"
METHODS = [("**.py", "python"), ("**/templates/**.html", "jinja2")]
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None}


def _catalog():
    with open(CATALOG / "messages.po", "rb") as f:
        return read_po(f, locale="zh")


def test_every_page_string_has_a_chinese_translation():
    catalog = _catalog()
    extracted = {msg for _file, _line, msg, _comments, _context in
                 extract_from_dir(str(WEB), METHODS, keywords=KEYWORDS)}
    assert len(extracted) > 200
    untranslated = sorted(m for m in extracted if not (catalog.get(m) and catalog.get(m).string
                                                        and not catalog.get(m).fuzzy))
    assert untranslated == [], "add these to web/translations/zh/LC_MESSAGES/messages.po and compile"


def test_every_service_message_has_a_chinese_translation():
    catalog = _catalog()
    declared = {msg for package in DOMAINS for _file, _line, msg, _comments, _context in
                extract_from_dir(str(ROOT / package), [("**.py", "python")], keywords={"N_": None})}
    assert len(declared) > 100
    untranslated = sorted(m for m in declared if not (catalog.get(m) and catalog.get(m).string))
    assert untranslated == [], "add these to web/translations/zh/LC_MESSAGES/messages.po and compile"


def test_compiled_catalog_is_up_to_date():
    with open(CATALOG / "messages.mo", "rb") as f:
        compiled = Translations(f)
    stale = [m.id for m in _catalog() if m.id and compiled.gettext(m.id) != m.string]
    assert stale == [], "run: pybabel compile -d web/translations"
