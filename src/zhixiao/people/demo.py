"""Bulk builders for demo people: realistic names (Faker zh_CN), valid ID check digits, guardians.

Deterministic for a given seed. Bulk inserts keep `--students 50000 --schools 20` within minutes.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from dataclasses import dataclass

from faker import Faker
from stdnum.cn import ric

from zhixiao.identity import services as identity_services

from .models import (
    Boarding,
    Guardian,
    GuardianLink,
    Post,
    Relation,
    Staff,
    Student,
    StudentStatus,
    TeachingAssignment,
)

MOBILE_PREFIXES = ("138", "139", "150", "151", "158", "186", "187", "135", "136", "137", "159", "188")


@dataclass
class ClassSpec:
    id: int
    school_id: int
    entry_year: int
    size: int
    boarding_share: float


class DemoPeople:
    def __init__(self, seed: int, password: str) -> None:
        self.rng = random.Random(seed)
        self.fake = Faker("zh_CN")
        self.fake.seed_instance(seed)
        self.password = password
        self._mobile_counter = 0
        self._id_seq: dict[tuple[str, str], int] = {}

    # --- identifiers ---------------------------------------------------------------------------------
    def mobile(self) -> str:
        self._mobile_counter += 1
        prefix = MOBILE_PREFIXES[self._mobile_counter % len(MOBILE_PREFIXES)]
        return f"{prefix}{(self._mobile_counter * 7919) % 100_000_000:08d}"

    def resident_id(self, division: str, birth: dt.date, male: bool) -> str:
        key = (division, birth.isoformat())
        seq = self._id_seq.get(key, self.rng.randrange(0, 400))
        while (seq % 2 == 1) != male:
            seq += 1
        self._id_seq[key] = seq + 1
        body = f"{division}{birth:%Y%m%d}{seq % 1000:03d}"
        return body + ric.calc_check_digit(body + "?")  # stdnum ignores the last character

    def birth(self, year: int) -> dt.date:
        return dt.date(year, 1, 1) + dt.timedelta(days=self.rng.randrange(0, 365))

    def person_name(self, male: bool) -> str:
        return self.fake.name_male() if male else self.fake.name_female()

    # --- students and guardians ----------------------------------------------------------------------
    def students(self, classes: list[ClassSpec], divisions: list[str], today: dt.date) -> int:
        """Create the students of the given classes with their accounts, guardians and guardian accounts."""
        students: list[Student] = []
        guardian_rows: list[tuple[int, Guardian, str, bool]] = []
        for cls in classes:
            for _ in range(cls.size):
                male = self.rng.random() < 0.51
                birth = self.birth(cls.entry_year - 15 - (1 if self.rng.random() < 0.15 else 0))
                division = self.rng.choice(divisions)
                number = self.resident_id(division, birth, male)
                name = self.person_name(male)
                students.append(
                    Student(
                        school_id=cls.school_id,
                        student_no=f"G{number}",
                        name=name,
                        gender="1" if male else "2",
                        id_type="1",
                        id_number=number,
                        birth_date=birth,
                        ethnicity="01" if self.rng.random() < 0.93 else self.rng.choice(["03", "04", "05", "08", "12"]),
                        household_type=self.rng.choice("1122"),
                        boarding=Boarding.BOARDING if self.rng.random() < cls.boarding_share else Boarding.DAY,
                        admin_class_id=cls.id,
                        status=StudentStatus.ENROLLED,
                        status_since=dt.date(cls.entry_year, 9, 1),
                        enrolled_on=dt.date(cls.entry_year, 9, 1),
                        address=self.fake.address(),
                    )
                )
                surname = name[0]
                father = Guardian(
                    name=surname + self.person_name(True)[1:], mobile=self.mobile(), work_unit=self.fake.company()
                )
                guardian_rows.append((len(students) - 1, father, Relation.FATHER, True))
                if self.rng.random() < 0.7:
                    mother = Guardian(name=self.person_name(False), mobile=self.mobile(), work_unit=self.fake.company())
                    guardian_rows.append((len(students) - 1, mother, Relation.MOTHER, False))
        student_accounts = identity_services.bulk_create_accounts(
            [{"username": s.student_no, "display_name": s.name, "kind": "student"} for s in students],
            password=self.password,
            must_change_password=False,
        )
        for s, acc in zip(students, student_accounts, strict=True):
            s.account_id = acc.pk
        Student.objects.bulk_create(students, batch_size=2000)
        guardian_accounts = identity_services.bulk_create_accounts(
            [
                {"username": g.mobile, "display_name": g.name, "kind": "guardian", "mobile": g.mobile}
                for _i, g, _r, _p in guardian_rows
            ],
            password=self.password,
            must_change_password=False,
        )
        guardians = []
        for (_i, g, _r, _p), acc in zip(guardian_rows, guardian_accounts, strict=True):
            g.account_id = acc.pk
            guardians.append(g)
        Guardian.objects.bulk_create(guardians, batch_size=2000)
        GuardianLink.objects.bulk_create(
            [
                GuardianLink(
                    school_id=students[i].school_id,
                    student_id=students[i].pk,
                    guardian_id=g.pk,
                    relation=r,
                    is_primary=p,
                    may_notify=True,
                )
                for i, g, r, p in guardian_rows
            ],
            batch_size=2000,
        )
        return len(students)

    # --- staff ---------------------------------------------------------------------------------------
    def staff(
        self, *, school_id: int, prefix: str, count: int, division: str, department_ids: list[int], start_no: int = 1
    ) -> list[Staff]:
        rows: list[Staff] = []
        for n in range(start_no, start_no + count):
            male = self.rng.random() < 0.45
            birth = self.birth(self.rng.randrange(1965, 2000))
            # 滁州市 counties got today's codes in 1992; older staff carry the 滁县地区 code (3424xx)
            number = self.resident_id(division if birth.year >= 1993 else "342401", birth, male)
            rows.append(
                Staff(
                    school_id=school_id,
                    staff_no=f"{prefix}{n:04d}",
                    name=self.person_name(male),
                    gender="1" if male else "2",
                    id_type="1",
                    id_number=number,
                    birth_date=birth,
                    political_status=self.rng.choice(["01", "01", "03", "13", "13", "13"]),
                    mobile=self.mobile(),
                    post=Post.TEACHER,
                    hired_on=dt.date(max(birth.year + 22, 1990), 8, 28),
                )
            )
        accounts = identity_services.bulk_create_accounts(
            [{"username": s.staff_no, "display_name": s.name, "kind": "staff", "mobile": s.mobile} for s in rows],
            password=self.password,
            must_change_password=False,
        )
        for s, acc in zip(rows, accounts, strict=True):
            s.account_id = acc.pk
        Staff.objects.bulk_create(rows, batch_size=2000)
        through = Staff.departments.through
        through.objects.bulk_create(
            [through(staff_id=s.pk, department_id=self.rng.choice(department_ids)) for s in rows],
            batch_size=2000,
        )
        return rows

    def teaching(self, rows: Iterator[tuple[int, int, int, int, int]]) -> None:
        """(school_id, term_id, staff_id, class_id, subject_id) rows."""
        TeachingAssignment.objects.bulk_create(
            [
                TeachingAssignment(school_id=s, term_id=t, staff_id=st, admin_class_id=c, subject_id=sub)
                for s, t, st, c, sub in rows
            ],
            batch_size=2000,
        )
