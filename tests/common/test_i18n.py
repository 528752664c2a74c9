"""English UI: the catalogue is complete and the main screens render in English.

The source language is Chinese (zh-hans); gridgov/locale/en/LC_MESSAGES/django.po carries the
English. `make test` compiles the .mo first; the fixture below compiles it too when pytest runs
alone and the .mo is missing or older than the .po.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.urls import reverse
from django.utils import translation
from django.utils.translation import trans_real

from gridgov.cases.selectors import QUEUES

PO = Path(settings.BASE_DIR) / "gridgov" / "locale" / "en" / "LC_MESSAGES" / "django.po"
EN = {"django_language": "en"}
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|%[sd]")


def _entries(path: Path) -> list[dict]:
    """A small .po reader: flags, msgctxt, msgid, msgid_plural and msgstr / msgstr[n]."""
    entries: list[dict] = []
    cur: dict = {"flags": set(), "fields": {}}
    key = None

    def flush() -> None:
        nonlocal cur
        if "msgid" in cur["fields"]:
            entries.append(cur)
        cur = {"flags": set(), "fields": {}}

    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            flush()
            key = None
        elif line.startswith("#,"):
            cur["flags"].update(f.strip() for f in line[2:].split(","))
        elif line.startswith("#"):
            continue
        elif line.startswith('"'):
            cur["fields"][key] += ast.literal_eval(line)
        else:
            key, _, value = line.partition(" ")
            if key == "msgctxt" and "msgid" in cur["fields"]:
                flush()
            cur["fields"][key] = ast.literal_eval(value)
    flush()
    return entries


@pytest.fixture(scope="module")
def english_catalogue() -> None:
    mo = PO.with_suffix(".mo")
    if not mo.exists() or mo.stat().st_mtime < PO.stat().st_mtime:
        call_command("compilemessages", locale=["en"], ignore_patterns=[".venv", "node_modules"], verbosity=0)
        trans_real._translations = {}  # forget catalogues loaded before the .mo was rebuilt
        trans_real._default = None


def test_every_entry_is_translated_and_not_fuzzy() -> None:
    entries = _entries(PO)
    assert len(entries) > 1000
    header, rest = entries[0], entries[1:]
    assert header["fields"]["msgid"] == ""
    assert "fuzzy" not in header["flags"]
    problems = []
    for e in rest:
        fields = e["fields"]
        strs = [v for k, v in fields.items() if k.startswith("msgstr")]
        if "fuzzy" in e["flags"] or not strs or not all(s.strip() for s in strs):
            problems.append(fields["msgid"])
    assert problems == []


def test_placeholders_and_markup_survive_translation() -> None:
    for e in _entries(PO)[1:]:
        fields = e["fields"]
        for key, text in fields.items():
            if not key.startswith("msgstr"):
                continue
            source = fields["msgid_plural"] if key == "msgstr[1]" else fields["msgid"]
            assert sorted(PLACEHOLDER.findall(text)) == sorted(PLACEHOLDER.findall(source)), source
            assert sorted(re.findall(r"</?\w+", text)) == sorted(re.findall(r"</?\w+", source)), source


@pytest.mark.usefixtures("english_catalogue")
def test_login_page_in_english(client) -> None:
    zh = client.get(reverse("login"))
    assert "登录" in zh.content.decode()
    client.cookies.load(EN)
    html = client.get(reverse("login")).content.decode()
    assert "Log in" in html
    assert "Username" in html and "Password" in html
    assert "用户名" not in html


@pytest.mark.usefixtures("english_catalogue")
def test_main_pages_in_english(personas, client_for) -> None:
    c = client_for(personas.town_operator)
    c.cookies.load(EN)
    home = c.get(reverse("home")).content.decode()
    for label in ("Workbench", "Cases", "Registers", "Log out", "Hello,"):
        assert label in home
    assert "工作台" not in home
    queue = c.get(reverse("cases:queue")).content.decode()
    assert "Awaiting acceptance" in queue  # queue tabs are marked with gettext_noop
    assert "Report a case" in queue
    registers = c.get(reverse("registers:overview")).content.decode()
    assert "Key place" in registers  # register labels from services.ENTITIES


@pytest.mark.usefixtures("english_catalogue")
def test_marked_labels_translate() -> None:
    with translation.override("en"):
        assert {translation.gettext(q.label) for q in QUEUES} >= {"Awaiting acceptance", "Reported by me"}
        assert translation.pgettext("case action", "不予受理") == "Reject"
        assert translation.gettext("不予受理") == "Rejected"
