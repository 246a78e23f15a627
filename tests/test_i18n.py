"""The UI speaks Simplified Chinese by default and English on request; the catalogue is complete and compiled.

The catalogue checks run without GNU gettext (a fresh machine may lack it): polib compiles and reads the
files, and Django's own `templatize` (pure Python) finds the messages in templates the way makemessages does.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import polib
import pytest
from django.test import Client
from django.utils.translation.template import templatize

ROOT = Path(__file__).resolve().parent.parent
PO = ROOT / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
MO = PO.with_suffix(".mo")
LOGIN = "/accounts/login/"

# The same tree bin/i18n gives makemessages (its --ignore list), plus what never holds our sources.
SKIP_DIRS = {".venv", ".tools", "static", "var", "locale", "node_modules", "__pycache__"}
# xgettext's keywords for Python as makemessages calls it: name -> (context arg, msgid arg, plural arg).
PY_KEYWORDS: dict[str, tuple[int | None, int, int | None]] = {
    "_": (None, 0, None),
    "gettext": (None, 0, None),
    "gettext_lazy": (None, 0, None),
    "gettext_noop": (None, 0, None),
    "ngettext": (None, 0, 1),
    "ngettext_lazy": (None, 0, 1),
    "pgettext": (0, 1, None),
    "pgettext_lazy": (0, 1, None),
    "npgettext": (0, 1, 2),
    "npgettext_lazy": (0, 1, 2),
}
# templatize writes string literals (repr'd, or the template's own for _("...")) as call arguments.
STRING = re.compile(r"""u?(?:'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*")""")
TEMPLATE_CALL = re.compile(
    rf"\b(?P<name>gettext|pgettext|ngettext|npgettext|_)\((?P<args>\s*{STRING.pattern}(?:\s*,\s*{STRING.pattern})*)"
)
PLACEHOLDER = re.compile(r"%\((\w+)\)[sdif]|\{\w*\}")

Key = tuple[str, str]  # (msgctxt or "", msgid)


def _catalogue() -> polib.POFile:
    return polib.pofile(str(PO))


def _live(po: polib.POFile) -> list[polib.POEntry]:
    return [e for e in po if not e.obsolete]


def _key(entry: polib.POEntry | polib.MOEntry) -> Key:
    return (entry.msgctxt or "", entry.msgid)


def _translation(entry: polib.POEntry | polib.MOEntry) -> str | tuple[str, ...]:
    if entry.msgid_plural:
        return tuple(entry.msgstr_plural[i] for i in sorted(entry.msgstr_plural))
    return entry.msgstr


def _source_files(*suffixes: str) -> list[Path]:
    return sorted(
        p
        for p in ROOT.rglob("*")
        if p.suffix in suffixes
        and p.is_file()
        and not any(part in SKIP_DIRS or part.startswith(".") for part in p.relative_to(ROOT).parts[:-1])
    )


def _python_messages(path: Path) -> set[Key]:
    found: set[Key] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
        if name not in PY_KEYWORDS:
            continue
        ctx_i, id_i, _plural_i = PY_KEYWORDS[name]
        args = node.args
        wanted = [i for i in (ctx_i, id_i) if i is not None]
        if len(args) <= max(wanted) or not all(
            isinstance(args[i], ast.Constant) and isinstance(args[i].value, str) for i in wanted
        ):
            continue  # a variable, not a literal: xgettext skips it too
        context = args[ctx_i].value if ctx_i is not None else ""  # type: ignore[attr-defined]
        found.add((context, args[id_i].value))  # type: ignore[attr-defined]
    return found


def _template_messages(path: Path) -> set[Key]:
    """Django's templatize turns the template into gettext calls; read their literal arguments."""
    code = templatize(path.read_text(encoding="utf-8"), origin=str(path))
    found: set[Key] = set()
    for call in TEMPLATE_CALL.finditer(code):
        strings = [ast.literal_eval(s) for s in STRING.findall(call["args"])]
        ctx_i, id_i, _plural_i = PY_KEYWORDS[call["name"]]
        found.add((strings[ctx_i] if ctx_i is not None else "", strings[id_i]))
    return found


def _extracted() -> dict[Key, Path]:
    found: dict[Key, Path] = {}
    for path in _source_files(".py"):
        for key in _python_messages(path):
            found.setdefault(key, path)
    for path in _source_files(".html", ".txt"):
        for key in _template_messages(path):
            found.setdefault(key, path)
    return found


# --- language in use --------------------------------------------------------------------------------


def test_login_page_is_chinese_by_default(db: None) -> None:
    response = Client().get(LOGIN)
    body = response.content.decode()
    assert response.status_code == 200
    assert "登录您的账户" in body
    assert "Log in to your account" not in body


def test_switching_to_english_renders_the_login_page_in_english(db: None) -> None:
    client = Client()
    response = client.post("/i18n/setlang/", {"language": "en", "next": LOGIN}, follow=True)
    body = response.content.decode()
    assert response.redirect_chain[-1][0] == LOGIN
    assert "Log in to your account" in body
    assert "登录您的账户" not in body


# --- the catalogue ----------------------------------------------------------------------------------


def test_every_catalogue_entry_is_translated_and_none_is_fuzzy() -> None:
    po = _catalogue()
    untranslated = [e.msgid for e in _live(po) if not e.translated()]
    fuzzy = [e.msgid for e in _live(po) if "fuzzy" in e.flags]
    assert (untranslated, fuzzy, bool(po.metadata_is_fuzzy)) == ([], [], False)


def test_translations_keep_every_placeholder() -> None:
    wrong = {}
    for entry in _live(_catalogue()):
        wanted = sorted(PLACEHOLDER.findall(entry.msgid))
        for text in entry.msgstr_plural.values() if entry.msgid_plural else [entry.msgstr]:
            if sorted(PLACEHOLDER.findall(text)) != wanted:
                wrong[entry.msgid] = text
    assert wrong == {}


def test_committed_mo_matches_the_po(tmp_path: Path) -> None:
    """Compare what the files say, not bytes: msgfmt and polib lay the same catalogue out differently."""
    fresh = tmp_path / "django.mo"
    _catalogue().save_as_mofile(str(fresh))
    committed = {_key(e): _translation(e) for e in polib.mofile(str(MO))}
    expected = {_key(e): _translation(e) for e in polib.mofile(str(fresh))}
    assert committed == expected


def test_every_marked_string_in_the_sources_is_in_the_catalogue() -> None:
    """What a fresh makemessages would add: run bin/i18n and translate the new entries if this fails."""
    in_po = {_key(e) for e in _live(_catalogue())}
    missing = {
        f"{path.relative_to(ROOT)}: {msgid!r}"
        for (ctx, msgid), path in _extracted().items()
        if (ctx, msgid) not in in_po
    }
    assert sorted(missing) == []


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ('{% load i18n %}{% translate "Home" %}', {("", "Home")}),
        ("{% load i18n %}{% trans 'Save 5%' as label %}", {("", "Save 5%%")}),
        ('{% load i18n %}{% translate "May" context "month" %}', {("month", "May")}),
        (
            "{% load i18n %}{% blocktranslate with n=x %}{{ n }} events{% endblocktranslate %}",
            {("", "%(n)s events")},
        ),
        (
            '{% include "t.html" with label=_("Customers") %}{{ x|default:_("None") }}',
            {("", "Customers"), ("", "None")},
        ),
    ],
)
def test_the_template_scanner_reads_messages_as_makemessages_does(
    tmp_path: Path, source: str, expected: set[Key]
) -> None:
    template = tmp_path / "t.html"
    template.write_text(source, encoding="utf-8")
    assert _template_messages(template) == expected
