"""Families of the session demo (a child with two guardian accounts), real photos, and a recorder of the
faces.changed events."""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client

from zhixiao.identity.models import Account
from zhixiao.kernel import domain_events
from zhixiao.org.models import School
from zhixiao.people.models import GuardianLink, Student


def png(width: int = 160, height: int = 200, shade: int = 128) -> bytes:
    """A real (grey) PNG of the given size."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    raw = b"".join(b"\x00" + bytes([shade]) * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


def jpeg_header(width: int = 240, height: int = 320) -> bytes:
    """The start of a baseline JPEG up to its frame header (SOI, APP0/JFIF, SOF0), then padding."""
    app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    sof0 = b"\xff\xc0" + struct.pack(">HBHHB", 11, 8, height, width, 1) + b"\x01\x11\x00"
    return b"\xff\xd8" + app0 + sof0 + b"\x00" * 64 + b"\xff\xd9"


@dataclass
class Family:
    student: Student
    guardians: list[Account]  # accounts of the child's guardians (the first is the one who acts)

    @property
    def guardian(self) -> Account:
        return self.guardians[0]


def _families(school: School) -> Iterator[Family]:
    students = Student.objects.filter(school=school, status="01").order_by("pk")
    for student in students:
        accounts = [
            link.guardian.account
            for link in GuardianLink.objects.filter(student=student).select_related("guardian__account").order_by("pk")
            if link.guardian.account is not None
        ]
        if len(accounts) >= 2 and all(GuardianLink.objects.filter(guardian__account=a).count() == 1 for a in accounts):
            yield Family(student, accounts)


@pytest.fixture
def schools(db: Any) -> list[School]:
    return list(School.objects.order_by("pk")[:2])


@pytest.fixture
def families(schools: list[School]) -> list[Family]:
    """Two families of school 1 (a child with two guardian accounts, each guardian of that child alone)
    and one of school 2."""
    near = _families(schools[0])
    found = [next(near), next(near), next(_families(schools[1]))]
    return found


@pytest.fixture
def family(families: list[Family]) -> Family:
    return families[0]


@pytest.fixture
def other_family(families: list[Family]) -> Family:
    return families[1]


@pytest.fixture
def far_family(families: list[Family]) -> Family:
    return families[2]


@pytest.fixture
def face_events() -> Iterator[list[dict[str, Any]]]:
    seen: list[dict[str, Any]] = []

    def record(**payload: Any) -> None:
        seen.append(payload)

    domain_events.subscribe(domain_events.FACES_CHANGED, record)
    yield seen
    domain_events._handlers[domain_events.FACES_CHANGED].remove(record)


@pytest.fixture
def browser_of() -> Any:
    """browser_of(account) → a logged-in client (guardians and teachers need no second factor)."""

    def make(account: Account) -> Client:
        if account.must_change_password:  # a demo account's first login; rolled back with the test
            account.must_change_password = False
            account.save(update_fields=["must_change_password"])
        client = Client()
        client.force_login(account)
        return client

    return make
