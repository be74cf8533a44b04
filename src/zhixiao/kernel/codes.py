"""National and education-sector code lists (GB/T 2261.1, 3304, 4762, 2260; JY/T 1001; GA 324.1).

The CSV files in data/standards/ are copied from ../shared/standards with their sources (SOURCES.md).
Values are accepted by code or by the standard's Chinese name, so imported Excel files may use either.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache, cached_property
from pathlib import Path

_DIR = Path(__file__).parent / "data" / "standards"


@dataclass(frozen=True)
class Code:
    code: str
    name_zh: str
    name_en: str
    extra: dict[str, str]


@dataclass(frozen=True)
class CodeList:
    key: str
    standard: str
    codes: tuple[Code, ...]

    @cached_property  # writes the instance __dict__ directly, so it works on a frozen dataclass
    def by_code(self) -> dict[str, Code]:
        return {c.code: c for c in self.codes}

    def name(self, code: str) -> str:
        found = self.by_code.get(code)
        return found.name_zh if found else code

    def lookup(self, value: str) -> Code | None:
        """Find a code by its code or its Chinese name (or short name), ignoring surrounding blanks."""
        value = str(value).strip()
        if not value:
            return None
        return _index(self.key).get(value)

    def choices(self) -> list[tuple[str, str]]:
        return [(c.code, c.name_zh) for c in self.codes]


_FILES = {
    "sex": ("sex.csv", "GB/T 2261.1-2003"),
    "ethnicity": ("ethnic_groups.csv", "GB/T 3304-1991"),
    "political_status": ("political_status.csv", "GB/T 4762-1984"),
    "id_type": ("id_document_types.csv", "JY/T 1001 SFZJLX"),
    "division": ("admin_divisions.csv", "GB/T 2260"),
    "school_type": ("school_types.csv", "JY/T 1001 BXLX"),
    "household": ("household_registration_types.csv", "GA 324.1-2001"),
    "student_status": ("student_status.csv", "JY/T 1001 XSDQZT"),
}


@cache
def code_list(key: str) -> CodeList:
    filename, standard = _FILES[key]
    with (_DIR / filename).open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    codes = tuple(
        Code(
            code=row.pop("code"),
            name_zh=row.pop("name_zh"),
            name_en=row.pop("name_en", "") or "",
            extra={k: v for k, v in row.items() if v},
        )
        for row in rows
    )
    return CodeList(key=key, standard=standard, codes=codes)


@cache
def _index(key: str) -> dict[str, Code]:
    index: dict[str, Code] = {}
    for c in code_list(key).codes:
        for alias in (c.name_zh, c.extra.get("short_name_zh", ""), c.code):
            if alias:
                index.setdefault(alias, c)
    if key == "sex":  # everyday forms write 男/女
        index.setdefault("男", index["1"])
        index.setdefault("女", index["2"])
    if key == "ethnicity":  # 汉 as well as 汉族
        for c in code_list(key).codes:
            if c.name_zh.endswith("族"):
                index.setdefault(c.name_zh[:-1], c)
    return index


SEX = "sex"
ETHNICITY = "ethnicity"
POLITICAL_STATUS = "political_status"
ID_TYPE = "id_type"
DIVISION = "division"
SCHOOL_TYPE = "school_type"
HOUSEHOLD = "household"

RESIDENT_ID_CARD = "1"  # JY/T 1001 SFZJLX 1 居民身份证


def division_path(code: str) -> list[Code]:
    """Province → prefecture → county names for a GB/T 2260 code, for display."""
    divisions = code_list(DIVISION).by_code
    path: list[Code] = []
    current = divisions.get(code)
    while current is not None:
        path.insert(0, current)
        current = divisions.get(current.extra.get("parent", ""))
    return path


def school_type_choices() -> list[tuple[str, str]]:
    """Only the concrete school types (level `type`) a school can be."""
    return [(c.code, c.name_zh) for c in code_list(SCHOOL_TYPE).codes if c.extra.get("level") == "type"]
