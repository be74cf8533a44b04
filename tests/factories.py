"""factory-boy factories for tests that need their own small world beside the session demo."""

from __future__ import annotations

import datetime as dt
import itertools

import factory
from faker import Faker
from stdnum.cn import ric

from zhixiao.identity.models import Account
from zhixiao.org.models import AdminClass, Grade, School, Stage
from zhixiao.people.models import Student

fake = Faker("zh_CN")
_school_codes = itertools.count(9_000_000_000)
_seq = itertools.count(1)


def resident_id(birth: dt.date, male: bool, division: str = "341102") -> str:
    n = next(_seq) % 500 * 2 + (1 if male else 0)
    body = f"{division}{birth:%Y%m%d}{n:03d}"
    return body + ric.calc_check_digit(body + "?")  # stdnum ignores the last character


class AccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Account

    username = factory.Sequence(lambda n: f"t{n:06d}")
    display_name = factory.LazyFunction(fake.name)
    kind = "staff"


class SchoolFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = School

    code = factory.LazyFunction(lambda: str(next(_school_codes)))
    name = factory.LazyFunction(lambda: fake.city_name() + "实验中学")
    school_type = "342"
    division_code = "341102"


class GradeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Grade

    school = factory.SubFactory(SchoolFactory)
    stage = Stage.SENIOR
    entry_year = 2026


class AdminClassFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AdminClass

    grade = factory.SubFactory(GradeFactory)
    school = factory.SelfAttribute("grade.school")
    number = factory.Sequence(lambda n: n % 90 + 1)
    name = factory.LazyAttribute(lambda o: f"测试{o.number}班-{next(_seq)}")
    homeroom_teacher = factory.SubFactory(AccountFactory)


class StudentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Student

    admin_class = factory.SubFactory(AdminClassFactory)
    school = factory.SelfAttribute("admin_class.school")
    name = factory.LazyFunction(fake.name)
    gender = factory.Iterator(["1", "2"])
    birth_date = dt.date(2011, 3, 4)
    id_number = factory.LazyAttribute(lambda o: resident_id(o.birth_date, o.gender == "1"))
    student_no = factory.LazyAttribute(lambda o: f"G{o.id_number}")
    status_since = dt.date(2026, 9, 1)
    enrolled_on = dt.date(2026, 9, 1)
