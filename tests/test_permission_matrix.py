# ruff: noqa: E501  (the matrix is a wide table: one line per request, one column per role)
"""Every role against every page and API endpoint, from an explicit table (architecture rule 3).

The table below is the specification: one row per concrete request, one column per role (plus the
anonymous visitor). Objects come from the session's two-school demo: "own" objects sit in school 1 (the
homeroom teacher's class, the guardian's child), "far" objects in school 2. Status meanings:

  200  served          302  redirected (for the anonymous column: to the login page)
  401  API refused without credentials          403  refused (the page exists for others)
  404  hidden (the object is outside the caller's scope)   405  wrong method   422  bad API input

`test_every_url_pattern_is_in_the_table` fails when a URL pattern appears that no row covers, so a new
page cannot ship without saying who may open it. To add a page: add a row (route as the resolver spells
it, the URL with {placeholders} from `Objects`, the method, and 14 statuses in the column order).
A failing role prints its observed row in the table's own format, ready to compare.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from django.http import QueryDict
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from zhixiao.identity import services as identity_services
from zhixiao.identity.models import ApiKey, RoleAssignment
from zhixiao.identity.tests.helpers import login, totp_code
from zhixiao.kernel.permissions import Role
from zhixiao.org.models import AdminClass, Department, School, Term
from zhixiao.people.models import GuardianLink, ImportJob, Staff, Student, TeachingAssignment

pytestmark = pytest.mark.django_db

ANONYMOUS = "anonymous"
COLUMNS = [ANONYMOUS, *[r.value for r in Role]]

# Not in the table, and why.
EXCLUDED_PREFIXES = {
    "sysadmin/": "Django's own admin: superusers only, behind Django's is_staff check, not part of the role model",
    "static/": "static files are served by whitenoise before URL resolution (none are in the URLconf)",
}

# fmt: off
# route (as the resolver spells it)               | URL                                                       | how | anon sys bur sch pri dep ghd hrt sub grd can it  par stu
MATRIX_TEXT = """
                                                | /                                                         | GET | 302 200 200 200 200 200 200 200 200 200 200 200 200 200
audit/                                          | /audit/                                                   | GET | 302 200 200 200 200 403 403 403 403 403 403 200 403 403
manage/roles/                                   | /manage/roles/                                            | GET | 302 200 200 200 200 200 403 403 403 403 403 200 403 403
manage/teaching/                                | /manage/teaching/                                         | GET | 302 200 200 200 200 200 403 403 403 403 403 200 403 403
manage/homerooms/                               | /manage/homerooms/                                        | GET | 302 200 200 200 200 200 403 403 403 403 403 200 403 403
account/login/                                  | /account/login/                                           | GET | 200 302 302 302 302 302 302 302 302 302 302 302 302 302
account/password/                               | /account/password/                                        | GET | 302 200 200 200 200 200 200 200 200 200 200 200 200 200
account/2fa/verify/                             | /account/2fa/verify/                                      | GET | 302 200 200 200 200 200 200 200 200 200 200 200 200 200
account/2fa/setup/                              | /account/2fa/setup/                                       | GET | 302 200 200 200 200 200 200 200 200 200 200 200 200 200
account/api-keys/                               | /account/api-keys/                                        | GET | 302 200 403 200 403 403 403 403 403 403 403 200 403 403
org/school/                                     | /org/school/                                              | GET | 302 200 200 200 200 200 200 200 200 200 200 200 200 200
org/school/edit/                                | /org/school/edit/                                         | GET | 302 200 403 200 403 403 403 403 403 403 403 403 403 403
org/school/division/                            | /org/school/division/?division_code={division}            | GET | 302 200 200 200 200 200 200 200 200 200 200 200 200 200
org/campuses/                                   | /org/campuses/                                            | GET | 302 200 200 200 200 200 200 200 200 200 200 200 200 200
org/departments/                                | /org/departments/                                         | GET | 302 200 200 200 200 200 200 200 200 200 200 200 200 200
org/subjects/                                   | /org/subjects/                                            | GET | 302 200 200 200 200 200 200 200 200 200 200 200 200 200
org/grades/                                     | /org/grades/                                              | GET | 302 200 200 200 200 200 200 200 200 200 200 200 200 200
org/classes/                                    | /org/classes/                                             | GET | 302 200 200 200 200 200 200 200 200 200 200 200 403 403
org/years/                                      | /org/years/                                               | GET | 302 200 200 200 200 200 200 200 200 200 200 200 200 200
org/calendar/                                   | /org/calendar/                                            | GET | 302 200 200 200 200 200 200 200 200 200 200 200 200 200
people/students/                                | /people/students/                                         | GET | 302 200 200 200 200 200 200 200 200 200 200 200 200 200
people/students/<id:student_id>/               | /people/students/{child}/                                 | GET | 302 200 200 200 200 404 200 200 404 200 200 200 200 200
people/students/<id:student_id>/               | /people/students/{sibling_student}/                       | GET | 302 200 200 200 200 404 200 404 404 200 200 200 404 404
people/students/<id:student_id>/               | /people/students/{far_student}/                           | GET | 302 200 200 404 404 404 404 404 404 404 404 404 404 404
people/students/<id:student_id>/edit/          | /people/students/{child}/edit/                            | GET | 302 200 403 200 403 404 403 200 404 403 403 403 403 403
people/students/<id:student_id>/edit/          | /people/students/{far_student}/edit/                      | GET | 302 200 403 404 404 404 404 404 404 404 404 404 404 404
people/students/<id:student_id>/status/        | /people/students/{child}/status/                          | GET | 302 200 403 200 403 404 403 200 404 403 403 403 403 403
people/students/<id:student_id>/status/        | /people/students/{far_student}/status/                    | GET | 302 200 403 404 404 404 404 404 404 404 404 404 404 404
people/students/<id:student_id>/guardians/add/ | /people/students/{child}/guardians/add/                   | GET | 302 200 403 200 403 404 403 200 404 403 403 403 403 403
people/students/<id:student_id>/guardians/add/ | /people/students/{far_student}/guardians/add/             | GET | 302 200 403 404 404 404 404 404 404 404 404 404 404 404
people/guardian-links/<id:link_id>/notify/     | /people/guardian-links/{child_link}/notify/               | POST| 302 302 403 302 403 404 403 302 404 404 404 404 403 404
people/guardian-links/<id:link_id>/notify/     | /people/guardian-links/{far_link}/notify/                 | POST| 302 302 403 404 404 404 404 404 404 404 404 404 404 404
people/classes/<id:class_id>/roster/           | /people/classes/{own_class}/roster/                       | GET | 302 200 200 200 200 403 200 200 403 403 403 200 403 403
people/classes/<id:class_id>/roster/           | /people/classes/{sibling_class}/roster/                   | GET | 302 200 200 200 200 403 200 403 403 200 200 200 403 403
people/classes/<id:class_id>/roster/           | /people/classes/{far_class}/roster/                       | GET | 302 200 200 403 403 403 403 403 403 403 403 403 403 403
people/classes/<id:class_id>/students/add/     | /people/classes/{own_class}/students/add/                 | GET | 302 200 403 200 403 403 403 403 403 403 403 403 403 403
people/classes/<id:class_id>/students/add/     | /people/classes/{far_class}/students/add/                 | GET | 302 200 403 403 403 403 403 403 403 403 403 403 403 403
people/staff/                                   | /people/staff/                                            | GET | 302 200 200 200 200 200 403 403 403 403 403 200 403 403
people/staff/<id:staff_id>/                    | /people/staff/{own_staff}/                                | GET | 302 200 200 200 200 404 404 404 404 404 404 200 404 404
people/staff/<id:staff_id>/                    | /people/staff/{far_staff}/                                | GET | 302 200 200 404 404 404 404 404 404 404 404 404 404 404
manage/schools/                                 | /manage/schools/                                          | GET | 302 200 403 403 403 403 403 403 403 403 403 403 403 403
# an empty form is shown again to the system admin (nothing written); everyone else is refused
manage/bureau/                                  | /manage/bureau/                                           | POST| 302 200 403 403 403 403 403 403 403 403 403 403 403 403
people/staff/add/                               | /people/staff/add/                                        | GET | 302 200 403 200 403 403 403 403 403 403 403 403 403 403
people/staff/<id:staff_id>/edit/               | /people/staff/{own_staff}/edit/                           | GET | 302 200 403 200 403 404 404 404 404 404 404 403 404 404
people/staff/<id:staff_id>/edit/               | /people/staff/{far_staff}/edit/                           | GET | 302 200 403 404 404 404 404 404 404 404 404 404 404 404
# resetting a password needs account.manage over the person: school admin and IT staff (a system admin has no home school but may)
people/password-reset/<str:kind>/<id:pk>/      | /people/password-reset/student/{child}/                   | POST| 302 302 403 302 403 404 403 403 404 403 403 302 403 403
people/password-reset/<str:kind>/<id:pk>/      | /people/password-reset/student/{far_student}/             | POST| 302 302 403 404 404 404 404 404 404 404 404 404 404 404
people/imports/                                 | /people/imports/                                          | GET | 302 200 403 200 403 403 403 403 403 403 403 403 403 403
people/imports/template/<str:kind>/             | /people/imports/template/students/                        | GET | 302 200 403 200 403 403 403 403 403 403 403 403 403 403
people/imports/template/<str:kind>/             | /people/imports/template/staff/                           | GET | 302 200 403 200 403 403 403 403 403 403 403 403 403 403
people/imports/<id:job_id>/                    | /people/imports/{own_job}/                                | GET | 302 200 404 200 404 404 404 404 404 404 404 404 404 404
people/imports/<id:job_id>/                    | /people/imports/{far_job}/                                | GET | 302 200 404 404 404 404 404 404 404 404 404 404 404 404
people/imports/<id:job_id>/status/             | /people/imports/{own_job}/status/                         | GET | 302 200 404 200 404 404 404 404 404 404 404 404 404 404
people/imports/<id:job_id>/status/             | /people/imports/{far_job}/status/                         | GET | 302 200 404 404 404 404 404 404 404 404 404 404 404 404
people/imports/<id:job_id>/errors.xlsx         | /people/imports/{own_job}/errors.xlsx                     | GET | 302 200 404 200 404 404 404 404 404 404 404 404 404 404
people/imports/<id:job_id>/errors.xlsx         | /people/imports/{far_job}/errors.xlsx                     | GET | 302 200 404 404 404 404 404 404 404 404 404 404 404 404
healthz                                         | /healthz                                                  | GET | 200 200 200 200 200 200 200 200 200 200 200 200 200 200
api/                                            | /api/                                                     | GET | 404 404 404 404 404 404 404 404 404 404 404 404 404 404
api/docs                                        | /api/docs                                                 | GET | 200 200 200 200 200 200 200 200 200 200 200 200 200 200
api/v1/openapi.json                             | /api/v1/openapi.json                                      | GET | 200 200 200 200 200 200 200 200 200 200 200 200 200 200
api/v1/schools                                  | /api/v1/schools                                           | GET | 401 200 200 200 200 200 200 200 200 200 200 200 200 200
api/v1/classes                                  | /api/v1/classes                                           | GET | 401 200 200 200 200 200 200 200 200 200 200 200 200 200
api/v1/students                                 | /api/v1/students                                          | GET | 401 200 200 200 200 200 200 200 200 200 200 200 200 200
api/v1/students/<student_id>                    | /api/v1/students/{child}                                  | GET | 401 200 200 200 200 404 200 200 404 200 200 200 200 200
api/v1/students/<student_id>                    | /api/v1/students/{child}?unmask=true                      | GET | 401 200 403 200 200 404 403 200 404 403 403 403 403 403
api/v1/students/<student_id>                    | /api/v1/students/{sibling_student}                        | GET | 401 200 200 200 200 404 200 404 404 200 200 200 404 404
api/v1/students/<student_id>                    | /api/v1/students/{far_student}                            | GET | 401 200 200 404 404 404 404 404 404 404 404 404 404 404
api/v1/classes/<class_id>/students              | /api/v1/classes/{own_class}/students                      | GET | 401 200 200 200 200 404 200 200 404 404 404 200 404 404
api/v1/classes/<class_id>/students              | /api/v1/classes/{sibling_class}/students                  | GET | 401 200 200 200 200 404 200 404 404 200 200 200 404 404
api/v1/classes/<class_id>/students              | /api/v1/classes/{far_class}/students                      | GET | 401 200 200 404 404 404 404 404 404 404 404 404 404 404
api/v1/staff                                    | /api/v1/staff                                             | GET | 401 200 200 200 200 200 200 200 200 200 200 200 200 200
api/v1/auth/token                               | /api/v1/auth/token                                        | POST| 401 401 401 401 401 401 401 401 401 401 401 401 401 401
people/reveal/<str:kind>/<id:pk>/<str:field>/  | /people/reveal/student/{child}/id_number/                 | POST| 302 200 403 200 200 404 403 200 404 403 403 403 403 403
people/reveal/<str:kind>/<id:pk>/<str:field>/  | /people/reveal/student/{far_student}/id_number/           | POST| 302 200 403 404 404 404 404 404 404 404 404 404 404 404
org/grades/add/                                 | /org/grades/add/                                          | POST| 302 200 403 200 403 403 403 403 403 403 403 403 403 403
org/classes/add/                                | /org/classes/add/                                         | POST| 302 200 403 200 403 403 403 403 403 403 403 403 403 403
org/years/add/                                  | /org/years/add/                                           | POST| 302 200 403 200 403 403 403 403 403 403 403 403 403 403
org/calendar/set/                               | /org/calendar/set/                                        | POST| 302 200 403 200 403 403 403 403 403 403 403 403 403 403
org/calendar/remove/                            | /org/calendar/remove/                                     | POST| 302 404 403 404 403 403 403 403 403 403 403 403 403 403
manage/homerooms/<id:class_id>/                | /manage/homerooms/{own_class}/                            | POST| 302 302 403 302 403 403 403 403 403 403 403 403 403 403
manage/homerooms/<id:class_id>/                | /manage/homerooms/{far_class}/                            | POST| 302 404 403 404 403 403 403 403 403 403 403 403 403 403
org/units/<str:kind>/<id:pk>/rename/           | /org/units/department/{own_dept}/rename/#u{own_dept}-name=矩阵测试处| POST| 302 302 403 302 403 403 403 403 403 403 403 403 403 403
# an empty form from a manager goes back to the page with an error; everyone else is refused first
org/units/<str:kind>/<id:pk>/rename/           | /org/units/department/{own_dept}/rename/                  | POST| 302 302 403 302 403 403 403 403 403 403 403 403 403 403
org/units/<str:kind>/<id:pk>/rename/           | /org/units/department/{far_dept}/rename/                  | POST| 302 302 403 404 404 404 404 404 404 404 404 404 404 404
org/units/<str:kind>/<id:pk>/delete/           | /org/units/department/{far_dept}/delete/                  | POST| 302 302 403 404 404 404 404 404 404 404 404 404 404 404
org/units/<str:kind>/<id:pk>/delete/           | /org/units/department/{own_dept}/delete/                  | POST| 302 302 403 302 403 403 403 403 403 403 403 403 403 403
org/terms/<id:term_id>/current/                | /org/terms/{far_term}/current/                            | POST| 302 404 403 404 403 403 403 403 403 403 403 403 403 403
org/terms/<id:term_id>/current/                | /org/terms/{own_term}/current/                            | POST| 302 302 403 302 403 403 403 403 403 403 403 403 403 403
manage/roles/<id:assignment_id>/revoke/        | /manage/roles/{far_ra}/revoke/                            | POST| 302 404 403 404 403 403 403 403 403 403 403 403 403 403
manage/roles/<id:assignment_id>/revoke/        | /manage/roles/{own_ra}/revoke/                            | POST| 302 302 403 302 403 403 403 403 403 403 403 403 403 403
manage/teaching/<id:assignment_id>/remove/     | /manage/teaching/{far_ta}/remove/                         | POST| 302 404 403 404 403 403 403 403 403 403 403 403 403 403
manage/teaching/<id:assignment_id>/remove/     | /manage/teaching/{own_ta}/remove/                         | POST| 302 302 403 302 403 403 403 403 403 403 403 403 403 403
account/api-keys/<id:key_id>/revoke/           | /account/api-keys/{far_key}/revoke/                       | POST| 302 302 404 404 404 404 404 404 404 404 404 404 404 404
account/api-keys/<id:key_id>/revoke/           | /account/api-keys/{own_key}/revoke/                       | POST| 302 302 404 302 404 404 404 404 404 404 404 302 404 404
# notifications: everyone has an inbox; the guardian's item is theirs alone; notification.manage (school admin, IT staff) over their own school
inbox/                                          | /inbox/                                                   | GET | 302 200 200 200 200 200 200 200 200 200 200 200 200 200
inbox/<id:item_id>/read/                       | /inbox/{guardian_item}/read/                              | POST| 302 404 404 404 404 404 404 404 404 404 404 404 302 404
inbox/read-all/                                 | /inbox/read-all/                                          | POST| 302 302 302 302 302 302 302 302 302 302 302 302 302 302
inbox/settings/                                 | /inbox/settings/                                          | GET | 302 200 200 200 200 200 200 200 200 200 200 200 200 200
inbox/deliveries/                               | /inbox/deliveries/                                        | GET | 302 200 403 200 403 403 403 403 403 403 403 200 403 403
inbox/deliveries/<id:outbox_id>/retry/         | /inbox/deliveries/{own_dead}/retry/                       | POST| 302 302 403 302 403 403 403 403 403 403 403 302 403 403
inbox/deliveries/<id:outbox_id>/retry/         | /inbox/deliveries/{far_dead}/retry/                       | POST| 302 302 403 404 403 403 403 403 403 403 403 404 403 403
inbox/robots/                                   | /inbox/robots/                                            | GET | 302 200 403 200 403 403 403 403 403 403 403 200 403 403
# an empty form is shown again with its errors to a manager; everyone else is refused
inbox/robots/add/                               | /inbox/robots/add/                                        | POST| 302 200 403 200 403 403 403 403 403 403 403 200 403 403
inbox/robots/<id:robot_id>/edit/               | /inbox/robots/{own_robot}/edit/                           | GET | 302 200 403 200 403 403 403 403 403 403 403 200 403 403
inbox/robots/<id:robot_id>/edit/               | /inbox/robots/{far_robot}/edit/                           | GET | 302 200 403 404 403 403 403 403 403 403 403 404 403 403
inbox/robots/<id:robot_id>/enable/             | /inbox/robots/{own_robot}/enable/                         | POST| 302 302 403 302 403 403 403 403 403 403 403 302 403 403
inbox/robots/<id:robot_id>/enable/             | /inbox/robots/{far_robot}/enable/                         | POST| 302 302 403 404 403 403 403 403 403 403 403 404 403 403
# workflow: everyone has the four lists; filing needs a staff record; a request is seen by those involved (applicant: the
# homeroom teacher; approver: the grade head) and by the school's overseers (workflow.view: principal, school admin)
workflow/                                       | /workflow/?tab=todo                                       | GET | 302 200 200 200 200 200 200 200 200 200 200 200 200 200
workflow/new/                                   | /workflow/new/                                            | GET | 302 200 200 200 200 200 200 200 200 200 200 200 200 200
workflow/new/<slug:key>/                        | /workflow/new/teacher_leave/                              | GET | 302 403 403 200 200 200 200 200 200 200 200 200 403 403
workflow/requests/<id:request_id>/             | /workflow/requests/{own_request}/                         | GET | 302 200 404 200 200 404 200 200 404 404 404 404 404 404
workflow/requests/<id:request_id>/             | /workflow/requests/{far_request}/                         | GET | 302 200 404 404 404 404 404 404 404 404 404 404 404 404
workflow/requests/<id:request_id>/edit/        | /workflow/requests/{own_request}/edit/                    | GET | 302 403 404 403 403 404 403 403 404 404 404 404 404 404
workflow/attachments/<id:attachment_id>/       | /workflow/attachments/{own_attachment}/                   | GET | 302 200 404 200 200 404 404 200 404 404 404 200 404 404
workflow/tasks/<id:task_id>/decide/            | /workflow/tasks/{own_task}/decide/                        | POST| 302 403 403 403 403 403 302 403 403 403 403 403 403 403
workflow/tasks/<id:task_id>/delegate/          | /workflow/tasks/{own_task}/delegate/                      | POST| 302 403 403 403 403 403 302 403 403 403 403 403 403 403
workflow/tasks/<id:task_id>/add-approver/      | /workflow/tasks/{own_task}/add-approver/                  | POST| 302 403 403 403 403 403 302 403 403 403 403 403 403 403
workflow/requests/<id:request_id>/remind/      | /workflow/requests/{own_request}/remind/                  | POST| 302 403 404 403 403 404 403 302 404 404 404 404 404 404
workflow/requests/<id:request_id>/withdraw/    | /workflow/requests/{own_request}/withdraw/                | POST| 302 403 404 403 403 404 403 302 404 404 404 404 404 404
workflow/definitions/                           | /workflow/definitions/                                    | GET | 302 200 403 200 403 403 403 403 403 403 403 403 403 403
workflow/definitions/<id:definition_id>/       | /workflow/definitions/{own_def}/                          | GET | 302 200 404 200 404 404 404 404 404 404 404 404 404 404
workflow/definitions/<id:definition_id>/       | /workflow/definitions/{far_def}/                          | GET | 302 200 404 404 404 404 404 404 404 404 404 404 404 404
workflow/definitions/<id:definition_id>/export/ | /workflow/definitions/{own_def}/export/                  | GET | 302 200 404 200 404 404 404 404 404 404 404 404 404 404
workflow/definitions/<id:definition_id>/active/ | /workflow/definitions/{own_def}/active/                  | POST| 302 302 404 302 404 404 404 404 404 404 404 404 404 404
# office: the repair (its photo seen by 信息中心's IT staff, who approve it) was reported by the homeroom teacher; a
# school admin may record the work on any
office/                                         | /office/                                                  | GET | 302 200 200 200 200 200 200 200 200 200 200 200 200 200
office/covers/                                  | /office/covers/                                           | GET | 302 200 200 200 200 200 200 200 200 200 200 200 200 200
office/repairs/                                 | /office/repairs/                                          | GET | 302 200 200 200 200 200 200 200 200 200 200 200 200 200
office/repairs/<id:order_id>/done/              | /office/repairs/{own_repair}/done/                        | POST| 302 302 404 302 403 404 404 403 404 404 404 404 404 404
office/repairs/<id:order_id>/rate/              | /office/repairs/{own_repair}/rate/                        | POST| 302 403 404 403 403 404 404 302 404 404 404 404 404 404
# attendance: guardians and students see their own (the guardian filed the leave for his child); staff see day records
# in scope, a homeroom teacher corrects his class; the school admin sets the rules and registers the devices
attendance/my/                                  | /attendance/my/                                           | GET | 302 302 302 302 302 302 302 302 302 302 302 302 200 200
attendance/days/                                | /attendance/days/                                         | GET | 302 200 200 200 200 403 200 200 403 200 403 403 403 403
attendance/days/<id:day_id>/correct/           | /attendance/days/{own_day}/correct/                       | POST| 302 302 403 302 403 404 403 302 404 403 404 404 403 403
attendance/days/<id:day_id>/correct/           | /attendance/days/{far_day}/correct/                       | POST| 302 302 403 404 404 404 404 404 404 404 404 404 404 404
attendance/leave/                               | /attendance/leave/                                        | GET | 302 200 200 200 200 403 200 200 403 200 403 403 200 200
attendance/leave/new/                           | /attendance/leave/new/                                    | GET | 302 403 200 200 200 200 200 200 200 200 200 200 200 200
attendance/leave/<id:leave_id>/                | /attendance/leave/{own_leave}/                            | GET | 302 200 200 200 200 404 200 200 404 200 404 404 200 200
attendance/leave/<id:leave_id>/                | /attendance/leave/{far_leave}/                            | GET | 302 200 200 404 404 404 404 404 404 404 404 404 404 404
attendance/leave/<id:leave_id>/cancel/         | /attendance/leave/{own_leave}/cancel/                     | POST| 302 302 403 302 403 404 403 302 404 403 404 404 302 403
attendance/settings/                            | /attendance/settings/                                     | GET | 302 403 403 200 403 403 403 403 403 403 403 403 403 403
attendance/board/                               | /attendance/board/                                        | GET | 302 200 200 200 200 403 200 200 403 200 403 403 403 403
attendance/board/                               | /attendance/board/?school={s2}                            | GET | 302 200 200 404 404 403 404 404 403 404 403 403 403 403
attendance/board/counts/                        | /attendance/board/counts/                                 | GET | 302 200 200 200 200 403 200 200 403 200 403 403 403 403
attendance/board/feed/                          | /attendance/board/feed/                                   | GET | 302 200 200 200 200 403 200 200 403 200 403 403 403 403
attendance/board/absent/                        | /attendance/board/absent/                                 | GET | 302 200 200 200 200 403 200 200 403 200 403 403 403 403
attendance/reports/                             | /attendance/reports/                                      | GET | 302 200 200 200 200 403 200 200 403 200 403 403 403 403
attendance/reports/export/                      | /attendance/reports/export/                               | GET | 302 200 200 200 200 403 200 200 403 200 403 403 403 403
attendance/reports/export/                      | /attendance/reports/export/?school={s2}                   | GET | 302 200 200 404 404 403 404 404 403 404 403 403 403 403
# the device API answers signed device requests only: a person's session or token is refused like no credentials
api/v1/devices/events                           | /api/v1/devices/events                                    | POST| 401 401 401 401 401 401 401 401 401 401 401 401 401 401
api/v1/devices/decide                           | /api/v1/devices/decide                                    | POST| 401 401 401 401 401 401 401 401 401 401 401 401 401 401
api/v1/devices/<device_id>/permissions          | /api/v1/devices/{own_device}/permissions                | GET | 401 401 401 401 401 401 401 401 401 401 401 401 401 401
devices/                                        | /devices/                                                 | GET | 302 403 403 200 403 403 403 403 403 403 403 200 403 403
devices/<id:device_id>/rotate/                 | /devices/{own_device}/rotate/                             | POST| 302 200 404 200 404 404 404 404 404 404 404 200 404 404
devices/<id:device_id>/rotate/                 | /devices/{far_device}/rotate/                             | POST| 302 200 404 404 404 404 404 404 404 404 404 404 404 404
devices/<id:device_id>/toggle/                 | /devices/{own_device}/toggle/                             | POST| 302 302 404 302 404 404 404 404 404 404 404 302 404 404
# faces: only the child's guardian consents and sees the photo; device.manage holders see the school's list (no photos)
faces/                                          | /faces/                                                   | GET | 302 403 403 403 403 403 403 403 403 403 403 403 200 403
faces/children/<id:student_id>/enrol/           | /faces/children/{child}/enrol/                            | POST| 302 404 404 404 404 404 404 404 404 404 404 404 302 404
faces/children/<id:student_id>/enrol/           | /faces/children/{far_student}/enrol/                      | POST| 302 404 404 404 404 404 404 404 404 404 404 404 404 404
faces/children/<id:student_id>/replace/         | /faces/children/{child}/replace/                          | POST| 302 404 404 404 404 404 404 404 404 404 404 404 302 404
faces/photos/<id:enrolment_id>/                 | /faces/photos/{own_face}/                                 | GET | 302 404 404 404 404 404 404 404 404 404 404 404 200 404
faces/photos/<id:enrolment_id>/                 | /faces/photos/{far_face}/                                 | GET | 302 404 404 404 404 404 404 404 404 404 404 404 404 404
faces/school/                                   | /faces/school/                                            | GET | 302 200 403 200 403 403 403 403 403 403 403 200 403 403
faces/school/students/<id:student_id>/withdraw/ | /faces/school/students/{child}/withdraw/                  | POST| 302 302 403 302 403 403 403 403 403 403 403 302 403 403
faces/school/students/<id:student_id>/withdraw/ | /faces/school/students/{far_student}/withdraw/            | POST| 302 302 403 404 403 403 403 403 403 403 403 404 403 403
faces/children/<id:student_id>/withdraw/        | /faces/children/{child}/withdraw/                         | POST| 302 404 404 404 404 404 404 404 404 404 404 404 302 404
api/v1/devices/<device_id>/faces                | /api/v1/devices/{own_device}/faces?since=0                | GET | 401 401 401 401 401 401 401 401 401 401 401 401 401 401
# timetable: timetable.manage (school admin, head of 教务处) manages the plans; staff holding timetable.view see the published
# versions and are refused (403) a plan they may only see (the demo's guard and canteen staff teach too); families see
# neither. Everyone has 我的课表; the subject teacher teaches in the published plan (his calendar); {far_*} lie in school 2
timetable/                                      | /timetable/                                               | GET | 302 200 200 200 200 200 200 200 200 200 200 200 403 403
timetable/new/                                  | /timetable/new/                                           | GET | 302 200 403 200 403 200 403 403 403 403 403 403 403 403
timetable/import/                               | /timetable/import/                                        | GET | 302 200 403 200 403 200 403 403 403 403 403 403 403 403
timetable/my/                                   | /timetable/my/                                            | GET | 302 200 200 200 200 200 200 200 200 200 200 200 200 200
timetable/my/calendar.ics                       | /timetable/my/calendar.ics                                | GET | 302 404 404 404 404 404 404 404 200 404 404 404 404 404
timetable/substitutions/                        | /timetable/substitutions/                                 | GET | 302 200 403 200 403 200 403 403 403 403 403 403 403 403
timetable/plans/<id:plan_id>/                   | /timetable/plans/{own_plan}/                              | GET | 302 200 403 200 403 200 403 403 403 403 403 403 404 404
timetable/plans/<id:plan_id>/                   | /timetable/plans/{far_plan}/                              | GET | 302 200 403 404 404 404 404 404 404 404 404 404 404 404
timetable/plans/<id:plan_id>/shape/             | /timetable/plans/{own_plan}/shape/                        | GET | 302 200 403 200 403 200 403 403 403 403 403 403 404 404
timetable/plans/<id:plan_id>/rooms/             | /timetable/plans/{own_plan}/rooms/                        | GET | 302 200 403 200 403 200 403 403 403 403 403 403 404 404
timetable/plans/<id:plan_id>/courses/           | /timetable/plans/{own_plan}/courses/                      | GET | 302 200 403 200 403 200 403 403 403 403 403 403 404 404
timetable/plans/<id:plan_id>/courses/           | /timetable/plans/{far_plan}/courses/                      | GET | 302 200 403 404 404 404 404 404 404 404 404 404 404 404
timetable/plans/<id:plan_id>/teaching-classes/  | /timetable/plans/{own_plan}/teaching-classes/             | GET | 302 200 403 200 403 200 403 403 403 403 403 403 404 404
timetable/plans/<id:plan_id>/electives/         | /timetable/plans/{own_plan}/electives/                    | GET | 302 200 403 200 403 200 403 403 403 403 403 403 404 404
timetable/plans/<id:plan_id>/electives/         | /timetable/plans/{far_plan}/electives/                    | GET | 302 200 403 404 404 404 404 404 404 404 404 404 404 404
timetable/plans/<id:plan_id>/electives/choices/ | /timetable/plans/{own_plan}/electives/choices/            | GET | 302 200 403 200 403 200 403 403 403 403 403 403 404 404
timetable/plans/<id:plan_id>/electives/runs/<id:run_id>/ | /timetable/plans/{own_plan}/electives/runs/{own_formation}/ | GET | 302 200 403 200 403 200 403 403 403 403 403 403 404 404
timetable/plans/<id:plan_id>/electives/runs/<id:run_id>/ | /timetable/plans/{far_plan}/electives/runs/{far_formation}/ | GET | 302 200 403 404 404 404 404 404 404 404 404 404 404 404
# the template needs the plan's grade first: a manager is sent back to the 走班 page with the reason
timetable/plans/<id:plan_id>/electives/template/ | /timetable/plans/{own_plan}/electives/template/          | GET | 302 302 403 302 403 302 403 403 403 403 403 403 404 404
timetable/plans/<id:plan_id>/unavailable/       | /timetable/plans/{own_plan}/unavailable/                  | GET | 302 200 403 200 403 200 403 403 403 403 403 403 404 404
timetable/plans/<id:plan_id>/rules/             | /timetable/plans/{own_plan}/rules/                        | GET | 302 200 403 200 403 200 403 403 403 403 403 403 404 404
timetable/plans/<id:plan_id>/solve/             | /timetable/plans/{own_plan}/solve/                        | GET | 302 200 403 200 403 200 403 403 403 403 403 403 404 404
timetable/plans/<id:plan_id>/timetable/         | /timetable/plans/{own_plan}/timetable/                    | GET | 302 200 403 200 403 200 403 403 403 403 403 403 404 404
timetable/plans/<id:plan_id>/timetable/         | /timetable/plans/{far_plan}/timetable/                    | GET | 302 200 403 404 404 404 404 404 404 404 404 404 404 404
timetable/plans/<id:plan_id>/move/              | /timetable/plans/{own_plan}/move/                         | GET | 302 200 403 200 403 200 403 403 403 403 403 403 404 404
timetable/runs/<id:run_id>/                     | /timetable/runs/{own_run}/                                | GET | 302 200 404 200 404 200 404 404 404 404 404 404 404 404
timetable/runs/<id:run_id>/                     | /timetable/runs/{far_run}/                                | GET | 302 200 404 404 404 404 404 404 404 404 404 404 404 404
timetable/runs/<id:run_id>/status/              | /timetable/runs/{own_run}/status/                         | GET | 302 200 404 200 404 200 404 404 404 404 404 404 404 404
timetable/versions/<id:version_id>/             | /timetable/versions/{own_version}/                        | GET | 302 200 200 200 200 200 200 200 200 200 200 200 404 404
timetable/versions/<id:version_id>/             | /timetable/versions/{far_version}/                        | GET | 302 200 200 404 404 404 404 404 404 404 404 404 404 404
timetable/versions/<id:version_id>/export/<str:fmt>/ | /timetable/versions/{own_version}/export/xlsx/       | GET | 302 200 200 200 200 200 200 200 200 200 200 200 404 404
timetable/versions/<id:version_id>/export/<str:fmt>/ | /timetable/versions/{far_version}/export/xlsx/       | GET | 302 200 200 404 404 404 404 404 404 404 404 404 404 404
# empty forms from a manager go back to the page with the reason; everyone else is refused first
timetable/plans/<id:plan_id>/shape/             | /timetable/plans/{own_plan}/shape/                        | POST| 302 200 403 200 403 200 403 403 403 403 403 403 404 404
timetable/plans/<id:plan_id>/rooms/             | /timetable/plans/{own_plan}/rooms/                        | POST| 302 302 403 302 403 302 403 403 403 403 403 403 404 404
timetable/plans/<id:plan_id>/rooms/<id:room_id>/delete/ | /timetable/plans/{own_plan}/rooms/{own_room}/delete/ | POST| 302 302 403 302 403 302 403 403 403 403 403 403 404 404
timetable/plans/<id:plan_id>/rooms/<id:room_id>/delete/ | /timetable/plans/{far_plan}/rooms/{far_room}/delete/ | POST| 302 302 403 404 404 404 404 404 404 404 404 404 404 404
timetable/plans/<id:plan_id>/courses/           | /timetable/plans/{own_plan}/courses/                      | POST| 302 302 403 302 403 302 403 403 403 403 403 403 404 404
timetable/plans/<id:plan_id>/courses/generate/  | /timetable/plans/{own_plan}/courses/generate/             | POST| 302 302 403 302 403 302 403 403 403 403 403 403 404 404
timetable/plans/<id:plan_id>/teaching-classes/  | /timetable/plans/{own_plan}/teaching-classes/             | POST| 302 302 403 302 403 302 403 403 403 403 403 403 404 404
timetable/plans/<id:plan_id>/electives/grade/   | /timetable/plans/{own_plan}/electives/grade/              | POST| 302 302 403 302 403 302 403 403 403 403 403 403 404 404
timetable/plans/<id:plan_id>/electives/choices/ | /timetable/plans/{own_plan}/electives/choices/            | POST| 302 302 403 302 403 302 403 403 403 403 403 403 404 404
timetable/plans/<id:plan_id>/electives/form/    | /timetable/plans/{own_plan}/electives/form/               | POST| 302 302 403 302 403 302 403 403 403 403 403 403 404 404
timetable/plans/<id:plan_id>/electives/runs/<id:run_id>/apply/ | /timetable/plans/{own_plan}/electives/runs/{own_formation}/apply/ | POST| 302 302 403 302 403 302 403 403 403 403 403 403 404 404
timetable/plans/<id:plan_id>/electives/runs/<id:run_id>/apply/ | /timetable/plans/{far_plan}/electives/runs/{far_formation}/apply/ | POST| 302 302 403 404 404 404 404 404 404 404 404 404 404 404
# an import without a file shows the 走班 page again with the reason (400)
timetable/plans/<id:plan_id>/electives/import/  | /timetable/plans/{own_plan}/electives/import/             | POST| 302 400 403 400 403 400 403 403 403 403 403 403 404 404
timetable/plans/<id:plan_id>/unavailable/       | /timetable/plans/{own_plan}/unavailable/                  | POST| 302 302 403 302 403 302 403 403 403 403 403 403 404 404
timetable/plans/<id:plan_id>/rules/             | /timetable/plans/{own_plan}/rules/                        | POST| 302 302 403 302 403 302 403 403 403 403 403 403 404 404
timetable/plans/<id:plan_id>/rules/<id:rule_id>/delete/ | /timetable/plans/{own_plan}/rules/{own_rule}/delete/ | POST| 302 302 403 302 403 302 403 403 403 403 403 403 404 404
timetable/plans/<id:plan_id>/move/              | /timetable/plans/{own_plan}/move/                         | POST| 302 302 403 302 403 302 403 403 403 403 403 403 404 404
timetable/plans/<id:plan_id>/lock/              | /timetable/plans/{own_plan}/lock/                         | POST| 302 302 403 302 403 302 403 403 403 403 403 403 404 404
timetable/plans/<id:plan_id>/publish/           | /timetable/plans/{own_plan}/publish/                      | POST| 302 302 403 302 403 302 403 403 403 403 403 403 404 404
timetable/plans/<id:plan_id>/publish/           | /timetable/plans/{far_plan}/publish/                      | POST| 302 302 403 404 404 404 404 404 404 404 404 404 404 404
timetable/runs/<id:run_id>/cancel/              | /timetable/runs/{own_run}/cancel/                         | POST| 302 302 404 302 404 302 404 404 404 404 404 404 404 404
timetable/substitutions/<id:substitution_id>/assign/ | /timetable/substitutions/{own_sub}/assign/           | POST| 302 302 404 302 404 302 404 404 404 404 404 404 404 404
timetable/substitutions/<id:substitution_id>/assign/ | /timetable/substitutions/{far_sub}/assign/           | POST| 302 302 404 404 404 404 404 404 404 404 404 404 404 404
# a manager's empty solve form starts a solve with the defaults (left queued: the test's transaction never commits)
timetable/plans/<id:plan_id>/solve/             | /timetable/plans/{own_plan}/solve/                        | POST| 302 302 403 302 403 302 403 403 403 403 403 403 404 404
# 阅卷: exam.manage (school admin, head of 教务处) manages papers, scans, review, assignments and scores; the subject
# teacher marks question 11 of the own paper, the homeroom teacher is its head marker (题组长); staff of the school
# are refused (403) a paper they may not manage, other schools' papers and anything of families are hidden (404)
omr/                                            | /omr/                                                     | GET | 302 200 403 200 403 200 403 200 200 403 403 403 403 403
omr/new/                                        | /omr/new/                                                 | GET | 302 200 403 200 403 200 403 403 403 403 403 403 403 403
omr/papers/<id:paper_id>/                       | /omr/papers/{own_paper}/                                  | GET | 302 200 403 200 403 200 403 403 403 403 403 403 404 404
omr/papers/<id:paper_id>/                       | /omr/papers/{far_paper}/                                  | GET | 302 200 403 404 404 404 404 404 404 404 404 404 404 404
omr/papers/<id:paper_id>/edit/                  | /omr/papers/{own_paper}/edit/                             | GET | 302 200 403 200 403 200 403 403 403 403 403 403 404 404
omr/papers/<id:paper_id>/sheet.pdf              | /omr/papers/{own_paper}/sheet.pdf                         | GET | 302 200 403 200 403 200 403 403 403 403 403 403 404 404
omr/papers/<id:paper_id>/layout.json            | /omr/papers/{own_paper}/layout.json                       | GET | 302 200 403 200 403 200 403 403 403 403 403 403 404 404
omr/papers/<id:paper_id>/key/                   | /omr/papers/{own_paper}/key/                              | POST| 302 302 403 302 403 302 403 403 403 403 403 403 404 404
omr/papers/<id:paper_id>/scans/                 | /omr/papers/{own_paper}/scans/                            | POST| 302 302 403 302 403 302 403 403 403 403 403 403 404 404
omr/papers/<id:paper_id>/review/                | /omr/papers/{own_paper}/review/                           | GET | 302 200 403 200 403 200 403 403 403 403 403 403 404 404
omr/papers/<id:paper_id>/assignments/           | /omr/papers/{own_paper}/assignments/                      | GET | 302 200 403 200 403 200 403 403 403 403 403 403 404 404
omr/papers/<id:paper_id>/assignments/           | /omr/papers/{far_paper}/assignments/                      | POST| 302 302 403 404 404 404 404 404 404 404 404 404 404 404
omr/papers/<id:paper_id>/mark/<int:question>/   | /omr/papers/{own_paper}/mark/11/                          | GET | 302 404 404 404 404 404 404 403 200 404 404 404 404 404
omr/papers/<id:paper_id>/mark/<int:question>/   | /omr/papers/{own_paper}/mark/11/                          | POST| 302 404 404 404 404 404 404 403 302 404 404 404 404 404
omr/papers/<id:paper_id>/mark/<int:question>/   | /omr/papers/{own_paper}/mark/12/                          | GET | 302 404 404 404 404 404 404 404 404 404 404 404 404 404
omr/papers/<id:paper_id>/head/<int:question>/   | /omr/papers/{own_paper}/head/11/                          | GET | 302 404 404 404 404 404 404 200 403 404 404 404 404 404
omr/papers/<id:paper_id>/scores/                | /omr/papers/{own_paper}/scores/                           | GET | 302 200 403 200 403 200 403 403 403 403 403 403 404 404
omr/papers/<id:paper_id>/scores/                | /omr/papers/{far_paper}/scores/                           | GET | 302 200 403 404 404 404 404 404 404 404 404 404 404 404
omr/papers/<id:paper_id>/scores.xlsx            | /omr/papers/{own_paper}/scores.xlsx                       | GET | 302 200 403 200 403 200 403 403 403 403 403 403 404 404
omr/batches/<id:batch_id>/status/               | /omr/batches/{own_batch}/status/                          | GET | 302 200 404 200 404 200 404 404 404 404 404 404 404 404
omr/batches/<id:batch_id>/status/               | /omr/batches/{far_batch}/status/                          | GET | 302 200 404 404 404 404 404 404 404 404 404 404 404 404
omr/batches/<id:batch_id>/cancel/               | /omr/batches/{own_batch}/cancel/                          | POST| 302 302 404 302 404 302 404 404 404 404 404 404 404 404
omr/batches/<id:batch_id>/resume/               | /omr/batches/{own_batch}/resume/                          | POST| 302 302 404 302 404 302 404 404 404 404 404 404 404 404
omr/review/<id:item_id>/                        | /omr/review/{own_review}/                                 | GET | 302 200 404 200 404 200 404 404 404 404 404 404 404 404
omr/review/<id:item_id>/                        | /omr/review/{far_review}/                                 | GET | 302 200 404 404 404 404 404 404 404 404 404 404 404 404
omr/pages/<id:page_id>/image/                   | /omr/pages/{own_page}/image/                              | GET | 302 200 404 200 404 200 404 404 404 404 404 404 404 404
omr/crops/<id:crop_id>/image/                   | /omr/crops/{own_crop}/image/                              | GET | 302 200 404 200 404 200 404 200 200 404 404 404 404 404
omr/crops/<id:crop_id>/image/                   | /omr/crops/{far_crop}/image/                              | GET | 302 200 404 404 404 404 404 404 404 404 404 404 404 404
# 考试: managers (school admin, head of 教务处) and staff holding score.view over some of the exam's students (the
# subject teacher and the guard, canteen and IT staff teach classes of another grade); families only 我的成绩
exams/                                          | /exams/                                                   | GET | 302 200 403 200 200 200 200 200 200 200 200 200 403 403
exams/new/                                      | /exams/new/                                               | GET | 302 200 403 200 403 200 403 403 403 403 403 403 403 403
exams/mine/                                     | /exams/mine/                                              | GET | 302 403 403 403 403 403 403 403 403 403 403 403 200 200
exams/<id:exam_id>/                             | /exams/{own_exam}/                                        | GET | 302 200 403 200 200 200 200 200 403 403 403 403 404 404
exams/<id:exam_id>/                             | /exams/{far_exam}/                                        | GET | 302 200 403 404 404 404 404 404 404 404 404 404 404 404
exams/<id:exam_id>/subjects/<id:subject_id>/    | /exams/{own_exam}/subjects/{own_exam_subject}/            | POST| 302 302 403 302 403 302 403 403 403 403 403 403 404 404
exams/<id:exam_id>/subjects/<id:subject_id>/    | /exams/{far_exam}/subjects/{far_exam_subject}/            | POST| 302 302 403 404 404 404 404 404 404 404 404 404 404 404
exams/<id:exam_id>/status/                      | /exams/{own_exam}/status/                                 | POST| 302 302 403 302 403 302 403 403 403 403 403 403 404 404
exams/<id:exam_id>/status/                      | /exams/{far_exam}/status/                                 | POST| 302 302 403 404 404 404 404 404 404 404 404 404 404 404
exams/<id:exam_id>/grid/                        | /exams/{own_exam}/grid/                                   | GET | 302 200 403 200 200 200 200 200 403 403 403 403 404 404
exams/<id:exam_id>/cell/                        | /exams/{own_exam}/cell/#student={own_exam_student}&subject={own_exam_subject}&value=80 | POST| 302 200 403 200 403 200 403 403 403 403 403 403 404 404
exams/<id:exam_id>/cell/                        | /exams/{far_exam}/cell/#student={far_exam_student}&subject={far_exam_subject}&value=80 | POST| 302 200 403 404 404 404 404 404 404 404 404 404 404 404
exams/<id:exam_id>/import/                      | /exams/{own_exam}/import/                                 | GET | 302 200 403 200 403 200 403 403 403 403 403 403 404 404
exams/<id:exam_id>/template.xlsx                | /exams/{own_exam}/template.xlsx                           | GET | 302 200 403 200 403 200 403 403 403 403 403 403 404 404
exams/<id:exam_id>/analysis/                    | /exams/{own_exam}/analysis/                               | GET | 302 200 403 200 200 200 200 200 403 403 403 403 404 404
exams/<id:exam_id>/analysis/                    | /exams/{far_exam}/analysis/                               | GET | 302 200 403 404 404 404 404 404 404 404 404 404 404 404
exams/<id:exam_id>/analysis.xlsx                | /exams/{own_exam}/analysis.xlsx                           | GET | 302 200 403 200 200 200 200 200 403 403 403 403 404 404
exams/<id:exam_id>/grade.pdf                    | /exams/{own_exam}/grade.pdf                               | GET | 302 200 403 200 200 200 200 200 403 403 403 403 404 404
exams/<id:exam_id>/grade.pdf                    | /exams/{far_exam}/grade.pdf                               | GET | 302 200 403 404 404 404 404 404 404 404 404 404 404 404
exams/<id:exam_id>/class.pdf                    | /exams/{own_exam}/class.pdf?class={own_class}             | GET | 302 200 403 200 200 200 200 200 403 403 403 403 404 404
exams/cards/<id:exam_student_id>.pdf            | /exams/cards/{own_exam_student}.pdf                       | GET | 302 200 404 200 200 200 200 200 404 404 404 404 404 404
exams/cards/<id:exam_student_id>.pdf            | /exams/cards/{far_exam_student}.pdf                       | GET | 302 200 404 404 404 404 404 404 404 404 404 404 404 404
i18n/setlang/                                   | /i18n/setlang/                                            | POST| 302 302 302 302 302 302 302 302 302 302 302 302 302 302
account/logout/                                 | /account/logout/                                          | POST| 302 302 302 302 302 302 302 302 302 302 302 302 302 302
"""
# fmt: on


@dataclass(frozen=True)
class Row:
    route: str
    url: str
    method: str
    expected: dict[str, int]


def _parse(text: str) -> list[Row]:
    rows = []
    for line in text.strip().splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        route, url, method, statuses = (part.strip() for part in line.split("|"))
        codes = [int(s) for s in statuses.split()]
        assert len(codes) == len(COLUMNS), f"{route}: {len(codes)} statuses for {len(COLUMNS)} columns"
        rows.append(Row("" if route == "-" else route, url, method, dict(zip(COLUMNS, codes, strict=True))))
    return rows


MATRIX = _parse(MATRIX_TEXT)


# --- the URL patterns of the project --------------------------------------------------------------------
def _walk(patterns: list[Any], prefix: str = "") -> list[str]:
    routes: list[str] = []
    for p in patterns:
        here = prefix + str(p.pattern)
        if isinstance(p, URLResolver):
            routes.extend(_walk(p.url_patterns, here))
        elif isinstance(p, URLPattern):
            routes.append(here)
    return routes


def project_routes() -> set[str]:
    return {r for r in _walk(get_resolver().url_patterns) if not r.startswith(tuple(EXCLUDED_PREFIXES))}


def test_every_url_pattern_is_in_the_table():
    covered = {row.route for row in MATRIX}
    routes = project_routes()
    missing = sorted(routes - covered)
    stale = sorted(covered - routes)
    assert not missing, "URL patterns with no row in the permission matrix (add one each):\n" + "\n".join(missing)
    assert not stale, "rows for URL patterns that no longer exist:\n" + "\n".join(stale)


def test_the_table_has_a_column_for_every_role():
    assert COLUMNS[1:] == [r.value for r in Role]
    assert all(set(row.expected) == set(COLUMNS) for row in MATRIX)


# --- the objects the URLs point at ---------------------------------------------------------------------------
@pytest.fixture
def objects(account_for: Any, settings: Any, tmp_path: Any) -> dict[str, Any]:
    """Concrete ids for the URL placeholders: school 1 ("own") and school 2 ("far")."""
    s1, s2 = School.objects.order_by("pk")[:2]
    teacher = account_for("homeroom_teacher")
    own_class = AdminClass.objects.get(homeroom_teacher=teacher)
    child = Student.objects.get(account=account_for("student"))
    assert GuardianLink.objects.filter(student=child, guardian__account=account_for("guardian")).exists()
    subject_classes = TeachingAssignment.objects.filter(staff__account=account_for("subject_teacher")).values(
        "admin_class_id"
    )
    sibling_class = (
        AdminClass.objects.filter(school=s1)
        .exclude(grade=own_class.grade)
        .exclude(pk__in=subject_classes)
        .order_by("pk")
        .first()
    )
    far_class = AdminClass.objects.filter(school=s2).order_by("pk").first()
    far_student = Student.objects.filter(school=s2).order_by("pk").first()
    sibling_student = Student.objects.filter(admin_class=sibling_class).order_by("pk").first()
    assert sibling_class and far_class and far_student and sibling_student

    def guard_ra(school: School) -> RoleAssignment:
        return RoleAssignment.objects.get(school=school, role=Role.GUARD)

    def key(school: School, index: int) -> ApiKey:
        admin = account_for("school_admin", index)
        return identity_services.create_api_key(actor=admin, school_id=school.pk, name="matrix").key

    def job(school: School) -> ImportJob:
        return ImportJob.objects.create(school=school, kind=ImportJob.Kind.STUDENTS, filename="x.xlsx", upload=b"")

    def second_term(school: School) -> Term:
        return Term.objects.filter(school_year__school=school).order_by("-number").first()  # type: ignore[return-value]

    return {
        "own_class": own_class.pk,
        "sibling_class": sibling_class.pk,
        "far_class": far_class.pk,
        "child": child.pk,
        "child_link": GuardianLink.objects.filter(student=child).order_by("pk").first().pk,  # type: ignore[union-attr]
        "far_link": GuardianLink.objects.filter(student=far_student).order_by("pk").first().pk,  # type: ignore[union-attr]
        "sibling_student": sibling_student.pk,
        "far_student": far_student.pk,
        "own_staff": Staff.objects.get(account=teacher).pk,
        "far_staff": Staff.objects.filter(school=s2).order_by("pk").first().pk,  # type: ignore[union-attr]
        "own_dept": Department.objects.filter(school=s1).order_by("pk").last().pk,  # type: ignore[union-attr]
        "far_dept": Department.objects.filter(school=s2).order_by("pk").last().pk,  # type: ignore[union-attr]
        "own_ra": guard_ra(s1).pk,
        "far_ra": guard_ra(s2).pk,
        "own_ta": TeachingAssignment.objects.filter(school=s1).order_by("pk").first().pk,  # type: ignore[union-attr]
        "far_ta": TeachingAssignment.objects.filter(school=s2).order_by("pk").first().pk,  # type: ignore[union-attr]
        "own_term": second_term(s1).pk,
        "far_term": second_term(s2).pk,
        "own_key": key(s1, 0).pk,
        "far_key": key(s2, 1).pk,
        "own_job": job(s1).pk,
        "far_job": job(s2).pk,
        **_notification_objects(account_for, s1, s2),
        **_workflow_objects(account_for, s1, s2),
        **_attendance_objects(account_for, s1, s2, child, far_student),
        **_face_objects(account_for, child, far_student),
        **_timetable_objects(account_for),
        **_omr_objects(account_for, s1, s2, settings, tmp_path),
        **_exam_objects(account_for),
        "s1": s1.pk,
        "s2": s2.pk,
        "division": s1.division_code,
    }


def _notification_objects(account_for: Any, s1: School, s2: School) -> dict[str, int]:
    """An inbox item of the guardian, a dead delivery and a group robot in each school."""
    from zhixiao.notifications.models import GroupRobot, InboxItem, Outbox, Status

    guardian = account_for("guardian")
    row = Outbox.objects.create(recipient=guardian, channel="inapp", template="notifications.test", dedup_key="matrix")
    item = InboxItem.objects.create(recipient=guardian, outbox=row, school_id=s1.pk, title="矩阵测试")

    def dead(school: School) -> int:
        return Outbox.objects.create(
            recipient=guardian,
            channel="email",
            template="notifications.test",
            dedup_key=f"matrix-{school.pk}",
            school_id=school.pk,
            status=Status.DEAD,
        ).pk

    def robot(school: School) -> int:
        return GroupRobot.objects.create(
            school_id=school.pk, kind="dingtalk", name="矩阵", webhook_url="https://robot.invalid/send"
        ).pk

    return {
        "guardian_item": item.pk,
        "own_dead": dead(s1),
        "far_dead": dead(s2),
        "own_robot": robot(s1),
        "far_robot": robot(s2),
    }


def _workflow_objects(account_for: Any, s1: School, s2: School) -> dict[str, int]:
    """A one-day leave of the homeroom teacher waiting for the grade head, the same in school 2, and a
    projector repair (with a photo) waiting for 信息中心."""
    from zhixiao.office.models import RepairOrder
    from zhixiao.workflow import services as workflow
    from zhixiao.workflow.models import Attachment, Definition, Task

    leave = {"leave_type": "事假", "start": "2026-12-01", "end": "2026-12-01", "days": "1", "reason": "矩阵"}
    own = workflow.start_request(actor=account_for("homeroom_teacher"), key="teacher_leave", data=leave)
    far = workflow.start_request(actor=account_for("homeroom_teacher", 1), key="teacher_leave", data=leave)
    repair = workflow.start_request(
        actor=account_for("homeroom_teacher"),
        key="repair",
        data={"place": "教室", "category": "多媒体/投影", "description": "投影仪不亮"},
        files=[workflow.Upload("photo.png", "image/png", b"\x89PNG\r\n\x1a\n")],
    )
    return {
        "own_request": own.id,
        "far_request": far.id,
        "own_task": Task.objects.get(request_id=own.id, assignee=account_for("grade_head")).pk,
        "own_attachment": Attachment.objects.get(request_id=repair.id).pk,
        "own_def": Definition.objects.get(school=s1, key="general").pk,
        "far_def": Definition.objects.get(school=s2, key="general").pk,
        "own_repair": RepairOrder.objects.get(request_id=repair.id).pk,
    }


def _face_objects(account_for: Any, child: Student, far_student: Student) -> dict[str, int]:
    """A face enrolled with consent by the child's guardian, and one in school 2."""
    from zhixiao.faces import services as faces
    from zhixiao.faces import statement
    from zhixiao.faces.tests.conftest import png

    far_link = (
        GuardianLink.objects.filter(student=far_student).select_related("guardian__account").order_by("pk").first()
    )
    assert far_link is not None
    own = faces.give_consent_and_enrol(
        actor=account_for("guardian"), student_id=child.pk, photo=png(), statement_version=statement.VERSION
    )
    far = faces.give_consent_and_enrol(
        actor=far_link.guardian.account, student_id=far_student.pk, photo=png(), statement_version=statement.VERSION
    )
    return {"own_face": own.pk, "far_face": far.pk}


def _attendance_objects(account_for: Any, s1: School, s2: School, child: Student, far: Student) -> dict[str, int]:
    """The guardian's leave for his child (waiting for the homeroom teacher) and one in school 2; a day record of
    the child and of a far student; a gate in each school."""
    import datetime as dt

    from django.utils import timezone

    from zhixiao.attendance import services as attendance
    from zhixiao.attendance.models import AttendanceDay, StudentLeave
    from zhixiao.devices import services as devices
    from zhixiao.workflow import services as workflow

    start = timezone.localtime() + dt.timedelta(days=1)
    own = attendance.file_leave(
        actor=account_for("guardian"),
        student_id=child.pk,
        leave_type="事假",
        start=start,
        end=start + dt.timedelta(hours=4),
        reason="矩阵",
    )
    far_leave = StudentLeave.objects.create(
        school=s2,
        student=far,
        request_id=10**9,
        request_number="matrix",
        leave_type="病假",
        starts_at=start,
        ends_at=start + dt.timedelta(hours=2),
        reason="矩阵",
        filed_by=account_for("homeroom_teacher", 1),
        filed_at=timezone.now(),
        admin_class_id=far.admin_class_id,
        grade_id=far.admin_class.grade_id if far.admin_class else None,
    )
    today = timezone.localdate()

    def day(student: Student) -> int:
        return AttendanceDay.objects.create(
            school_id=student.school_id,
            student=student,
            date=today,
            admin_class_id=student.admin_class_id,
            grade_id=student.admin_class.grade_id if student.admin_class else None,
            status="absent",
        ).pk

    assert workflow is not None
    return {
        "own_leave": own.pk,
        "far_leave": far_leave.pk,
        "own_day": day(child),
        "far_day": day(far),
        "own_device": devices.register_device(actor=None, school_id=s1.pk, kind="gate", name="矩阵南门")[0].pk,
        "far_device": devices.register_device(actor=None, school_id=s2.pk, kind="gate", name="矩阵北门")[0].pk,
    }


def _timetable_objects(account_for: Any) -> dict[str, int]:
    """In each school a small plan of the subject teacher's class, solved and published (a room, a rule, the run), and a
    lesson of his to cover on a leave."""
    import datetime as dt

    from zhixiao.timetable import services as timetable
    from zhixiao.timetable.models import PlanRule, Room, SolveRun, Substitution
    from zhixiao.timetable.tests.helpers import published_plan

    out: dict[str, int] = {}
    for prefix, index in (("own", 0), ("far", 1)):
        teacher = account_for("subject_teacher", index)
        version = published_plan(teacher=teacher, name="矩阵课表")
        plan = version.plan
        out[f"{prefix}_plan"] = plan.pk
        out[f"{prefix}_version"] = version.pk
        out[f"{prefix}_run"] = plan.runs.get().pk
        out[f"{prefix}_formation"] = SolveRun.objects.create(
            school_id=plan.school_id,
            plan=plan,
            mode="electives",
            status="done",
            problem={},
            report={
                "blocks": 1,
                "lessons": {"物理": 2},
                "classes": [{"name": "矩阵物理班", "subject": "物理", "block": 0, "members": [], "teacher": None}],
            },
        ).pk
        out[f"{prefix}_room"] = Room.objects.create(school_id=plan.school_id, plan=plan, name="矩阵教室").pk
        out[f"{prefix}_rule"] = timetable.save_rule(actor=None, plan_id=plan.pk, kind="class_no_gaps", weight=90).pk
        out[f"{prefix}_sub"] = Substitution.objects.create(
            school_id=plan.school_id,
            version=version,
            request_id=10**9 + index,
            request_number="matrix",
            absent_teacher=teacher,
            date=dt.date.today() + dt.timedelta(days=1),
            day=0,
            period=0,
            period_name="第1节",
            activity_id=0,
            subject="矩阵",
            class_name="矩阵",
        ).pk
    assert PlanRule.objects.filter(pk=out["own_rule"]).exists()
    return out


def _omr_objects(account_for: Any, s1: School, s2: School, settings: Any, tmp_path: Any) -> dict[str, int]:
    """In each school a paper with a read batch: one page, one student's sheet with a written answer to mark and a
    review item; question 11 of the own paper marked by the subject teacher, headed by the homeroom teacher."""
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    from zhixiao.omr import services as omr
    from zhixiao.omr.models import AnswerCrop, AnswerSheet, ReviewItem, ScanBatch, ScannedPage
    from zhixiao.omr.tests.helpers import make_paper

    settings.MEDIA_ROOT = str(tmp_path / "media")
    png = default_storage.save("omr/matrix.png", ContentFile(b"\x89PNG\r\n\x1a\n"))
    out: dict[str, int] = {}
    for prefix, school in (("own", s1), ("far", s2)):
        paper = make_paper(None, school.pk)
        batch = ScanBatch.objects.create(school=school, paper=paper, status="done", storage_dir="omr/matrix")
        sheet = AnswerSheet.objects.create(school=school, paper=paper, batch=batch, student_number="0000000001")
        page = ScannedPage.objects.create(school=school, paper=paper, batch=batch, sheet=sheet, file="a.jpg", image=png)
        crop = AnswerCrop.objects.create(school=school, paper=paper, sheet=sheet, question=11, image=png)
        item = ReviewItem.objects.create(
            school=school, paper=paper, batch=batch, page=page, code="ambiguous", message="矩阵"
        )
        out |= {
            f"{prefix}_paper": paper.pk,
            f"{prefix}_batch": batch.pk,
            f"{prefix}_page": page.pk,
            f"{prefix}_crop": crop.pk,
            f"{prefix}_review": item.pk,
        }
    omr.save_assignment(
        actor=None,
        paper_id=out["own_paper"],
        question=11,
        marker_ids=[account_for("subject_teacher").pk],
        head_marker_id=account_for("homeroom_teacher").pk,
    )
    return out


def _exam_objects(account_for: Any) -> dict[str, int]:
    """In each school a mid-term of the homeroom teacher's grade (语文 and 数学, no scores yet)."""
    from zhixiao.academics.tests.helpers import make_exam

    out: dict[str, int] = {}
    for prefix, index in (("own", 0), ("far", 1)):
        exam = make_exam(account_for("homeroom_teacher", index))
        out[f"{prefix}_exam"] = exam.pk
        out[f"{prefix}_exam_subject"] = exam.subjects.order_by("pk").first().pk  # type: ignore[union-attr]
        out[f"{prefix}_exam_student"] = exam.students.order_by("pk").first().pk  # type: ignore[union-attr]
    return out


# --- one test per role: every row, in table order ------------------------------------------------------------
def _clients(role: str, login_for: Any) -> tuple[Client, Client]:
    """A browser session (logged in through the real login and TOTP pages) and an API client (a bearer
    token from /api/v1/auth/token)."""
    if role == ANONYMOUS:
        return Client(), Client()
    demo = login_for(role)
    page = login(Client(), demo)
    body: dict[str, str] = {"username": demo.username, "password": demo.password}
    if demo.totp_secret:
        body["otp"] = totp_code(demo.totp_secret, steps_ahead=1)  # the page login used this step's code
    response = Client().post("/api/v1/auth/token", body, content_type="application/json")
    assert response.status_code == 200, response.content
    return page, Client(HTTP_AUTHORIZATION=f"Bearer {response.json()['token']}")


def _request(client: Client, row: Row, url: str) -> Any:
    """GET the URL, or POST to it: a form body may follow a '#' (`…/rename/#name=x`), else an empty one
    (which the views must refuse before they even look at the form)."""
    if row.method == "GET":
        return client.get(url)
    url, _hash, body = url.partition("#")
    if url.startswith("/api/"):
        return client.post(url, {"username": "nobody", "password": "x"}, content_type="application/json")
    return client.post(url, QueryDict(body).dict())


PUBLIC = {"account/login/", "api/", "api/docs", "api/v1/openapi.json", "api/v1/auth/token", "healthz", "i18n/setlang/"}


def _redirect_is_fair(role: str, row: Row, location: str) -> bool:
    """The anonymous visitor is sent to log in; a logged-in person is never sent back to the login or
    second-factor pages (that would mean the login did not hold), except by logging out."""
    to_login = location.startswith((reverse("identity:login"), "/account/2fa/"))
    if role == ANONYMOUS:
        return to_login or row.route in PUBLIC
    return not to_login or row.route == "account/logout/"


def _format(row: Row, observed: dict[str, int]) -> str:
    statuses = " ".join(f"{observed.get(c, 0):>3}" for c in COLUMNS)
    return f"{row.route:<48}| {row.url:<58}| {row.method:<4}| {statuses}"


@pytest.mark.parametrize("role", COLUMNS)
def test_role_against_every_page_and_endpoint(role, login_for, objects):
    page, api = _clients(role, login_for)
    wrong: list[str] = []
    for row in MATRIX:
        url = row.url.format(**objects)
        client = api if url.startswith("/api/v1/") else page
        response = _request(client, row, url)
        status = response.status_code
        if status == 302 and not _redirect_is_fair(role, row, response["Location"]):
            status = -302  # shown as such in the failure message
        if status != row.expected[role]:
            wrong.append(f"{row.method} {url}: expected {row.expected[role]}, got {status}")
    assert not wrong, f"{role}: " + "; ".join(wrong)


def test_anonymous_visitor_is_refused_all_but_the_public_entry_points():
    for row in MATRIX:
        if row.route not in PUBLIC:
            assert row.expected[ANONYMOUS] in (302, 401), row.route
