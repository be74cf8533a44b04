"""English is a switch away: the language menu turns the pages English, and the committed catalogue
(locale/en/LC_MESSAGES/django.po and the compiled django.mo beside it) is complete and in step.

The .mo is committed because a school's machine may have no gettext; so the check that it was compiled
from the current .po is pure Python (a small .po reader compared with gettext's own .mo reader)."""

from __future__ import annotations

import ast
import gettext
import re
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

import zhixiao
from zhixiao.org.models import AdminClass

LC_MESSAGES = Path(zhixiao.__file__).parent / "locale" / "en" / "LC_MESSAGES"
CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|\{\w*(?::[^}]*)?\}")


# --- the pages --------------------------------------------------------------------------------------------
@pytest.fixture
def teacher(account_for: Any) -> tuple[Client, Any]:
    account = account_for("homeroom_teacher")
    client = Client()
    client.force_login(account)
    return client, account


def in_english(client: Client) -> None:
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert response.status_code == 302 and response["Location"] == "/"


def nav_of(html: str) -> str:
    found = re.search(r'<nav class="nav">(.*?)</nav>', html, re.S)
    assert found, "the page has no navigation"
    return found.group(1)


@pytest.mark.django_db
def test_pages_are_chinese_until_english_is_chosen(teacher):
    client, _account = teacher
    html = client.get("/").content.decode()
    assert '<html lang="zh-hans">' in html
    assert "学生" in nav_of(html) and "Students" not in html


@pytest.mark.django_db
def test_choosing_english_turns_home_page_and_menu_english(teacher):
    client, _account = teacher
    in_english(client)
    html = client.get("/").content.decode()
    assert '<html lang="en">' in html
    nav = nav_of(html)
    assert not CJK.search(nav), f"untranslated menu: {nav}"
    for word in ("Home", "Classes", "Students"):
        assert f">{word}</a>" in nav
    for word in ("Change password", "Log out", "My roles", "Homeroom teacher", "My classes"):
        assert word in html
    for chinese in ("首页", "改密码", "退出", "我的角色", "班主任", "我的班级", "您好"):
        assert chinese not in html


@pytest.mark.django_db
def test_class_roster_in_english(teacher):
    client, account = teacher
    in_english(client)
    klass = AdminClass.objects.filter(homeroom_teacher=account).first()
    assert klass is not None, "the demo homeroom teacher has a class"
    html = client.get(f"/people/classes/{klass.pk}/roster/").content.decode()
    assert '<html lang="en">' in html
    assert "Class roster" in html and "Student number" in html and "Day student / boarder" in html
    headings = re.findall(r"<(?:th|dt)[^>]*>(.*?)</(?:th|dt)>", html)
    assert headings and not [h for h in headings if CJK.search(h)], headings
    assert not CJK.search(nav_of(html))
    for chinese in ("花名册", "学籍号", "走读/住校", "出生日期", "导出 Excel"):
        assert chinese not in html


@pytest.mark.django_db
def test_login_page_in_english_before_signing_in():
    client = Client()
    client.post("/i18n/setlang/", {"language": "en", "next": "/account/login/"})
    html = client.get("/account/login/").content.decode()
    assert '<html lang="en">' in html
    assert "Log in to Zhixiao" in html and "Staff number / student number / mobile" in html
    assert "登录智校" not in html


@pytest.mark.django_db
def test_calendar_weekdays_in_english(teacher):
    client, _account = teacher
    in_english(client)
    html = client.get("/org/calendar/").content.decode()
    assert all(f"<strong>{day}</strong>" in html for day in ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"))
    assert "周一" not in html


@pytest.mark.django_db
def test_switching_back_to_chinese(teacher):
    client, _account = teacher
    in_english(client)
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    html = client.get("/").content.decode()
    assert '<html lang="zh-hans">' in html and "首页" in nav_of(html)


# --- the catalogue ----------------------------------------------------------------------------------------
def read_po(path: Path) -> list[dict[str, Any]]:
    """The entries of a .po file: msgctxt, msgid, msgid_plural, msgstr (or msgstr[n]) and flags.
    Obsolete (#~) entries and comments are left out, as msgfmt leaves them out."""
    entries: list[dict[str, Any]] = []
    entry: dict[str, Any] = {}
    key = ""
    flags: set[str] = set()

    def close() -> None:
        nonlocal entry, flags
        if "msgid" in entry:
            entry["flags"] = flags
            entries.append(entry)
        entry, flags = {}, set()

    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line.startswith("#,"):
            if "msgid" in entry:
                close()
            flags |= {f.strip() for f in line[2:].split(",")}
        elif not line or line.startswith("#"):
            continue
        elif line.startswith('"'):
            entry[key] += ast.literal_eval(line)
        else:
            key, _space, value = line.partition(" ")
            if key in ("msgctxt", "msgid") and ("msgid" in entry):
                close()
            entry[key] = ast.literal_eval(value)
    close()
    return entries


def without_pot_date(header: str) -> str:
    """GNU msgfmt drops POT-Creation-Date from the compiled header; makemessages bumps it on every run."""
    return "".join(line for line in header.splitlines(True) if not line.startswith("POT-Creation-Date:"))


def catalogue_from_po(entries: list[dict[str, Any]]) -> dict[Any, str]:
    """The catalogue msgfmt would build, keyed as gettext.GNUTranslations keys its _catalog."""
    catalogue: dict[Any, str] = {}
    for e in entries:
        if "fuzzy" in e["flags"] and e["msgid"]:
            continue
        msgid = f"{e['msgctxt']}\x04{e['msgid']}" if "msgctxt" in e else e["msgid"]
        if "msgid_plural" in e:
            for n in range(2):
                catalogue[(msgid, n)] = e[f"msgstr[{n}]"]
        else:
            catalogue[msgid] = e["msgstr"] if msgid else without_pot_date(e["msgstr"])
    return catalogue


def test_every_message_has_an_english_translation():
    entries = [e for e in read_po(LC_MESSAGES / "django.po") if e["msgid"]]
    assert len(entries) > 300
    fuzzy = [e["msgid"] for e in entries if "fuzzy" in e["flags"]]
    assert not fuzzy, f"fuzzy (unchecked) translations: {fuzzy}"
    for e in entries:
        translations = [e[k] for k in e if k.startswith("msgstr")]
        assert translations and all(t.strip() for t in translations), f"untranslated: {e['msgid']!r}"
        for t in translations:
            assert not CJK.search(t.replace("男", "").replace("女", "")), f"Chinese left in {t!r}"
            want = sorted(PLACEHOLDER.findall(e["msgid"]))
            assert sorted(PLACEHOLDER.findall(t)) == want, f"placeholders changed: {e['msgid']!r} → {t!r}"


def test_compiled_mo_matches_po():
    """Fails when the .po was edited (or makemessages added strings) and the .mo was not recompiled:
    run `msgfmt --check -o django.mo django.po` in locale/en/LC_MESSAGES."""
    with (LC_MESSAGES / "django.mo").open("rb") as f:
        compiled = gettext.GNUTranslations(f)
    from_po = catalogue_from_po(read_po(LC_MESSAGES / "django.po"))
    from_mo = dict(compiled._catalog)  # type: ignore[attr-defined]
    from_mo[""] = without_pot_date(from_mo[""])
    missing = sorted(str(k) for k in from_po.keys() - from_mo.keys())
    stale = sorted(str(k) for k in from_po.keys() & from_mo.keys() if from_po[k] != from_mo[k])
    extra = sorted(str(k) for k in from_mo.keys() - from_po.keys())
    assert not (missing or stale or extra), f"django.mo is out of date: {missing=} {stale=} {extra=}"
    assert compiled.info().get("language") == "en"
    assert compiled.ngettext(
        "发现 %(n)s 处错误，未写入任何数据。", "发现 %(n)s 处错误，未写入任何数据。", 3
    ).startswith("Found %(n)s errors")


def test_po_reader_understands_what_it_must(tmp_path):
    """The reader the staleness check rests on: contexts, plurals, continued lines, escapes, fuzzy, obsolete."""
    po = tmp_path / "t.po"
    po.write_text(
        'msgid ""\nmsgstr ""\n"POT-Creation-Date: 2026-01-01 08:00+0800\\n"\n"Language: en\\n"\n\n'
        'msgctxt "menu"\nmsgid "班级"\nmsgstr "Classes"\n\n'
        '#, python-format\nmsgid "共 %(n)s 条"\nmsgid_plural "共 %(n)s 条"\nmsgstr[0] "%(n)s item"\n'
        'msgstr[1] "%(n)s items"\n\n'
        'msgid ""\n"长"\n"句"\nmsgstr "A \\"long\\" "\n"line"\n\n'
        '#, fuzzy\nmsgid "旧"\nmsgstr "Old"\n\n'
        '#~ msgid "废"\n#~ msgstr "Gone"\n',
        encoding="utf-8",
    )
    assert catalogue_from_po(read_po(po)) == {
        "": "Language: en\n",
        "menu\x04班级": "Classes",
        ("共 %(n)s 条", 0): "%(n)s item",
        ("共 %(n)s 条", 1): "%(n)s items",
        "长句": 'A "long" line',
    }


@pytest.mark.django_db
def test_a_browser_set_to_english_still_gets_chinese_until_english_is_chosen(client):
    page = client.get("/account/login/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()
    assert 'lang="zh-hans"' in page
    client.post("/i18n/setlang/", {"language": "en", "next": "/account/login/"})
    assert 'lang="en"' in client.get("/account/login/", HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode()
