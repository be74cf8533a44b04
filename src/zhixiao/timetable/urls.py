from django.urls import path

from . import elective_views, views

app_name = "timetable"

urlpatterns = [
    path("", views.plans, name="plans"),
    path("new/", views.plan_new, name="plan_new"),
    path("import/", views.fet_import, name="fet_import"),
    path("my/", views.my, name="my"),
    path("my/calendar.ics", views.my_calendar, name="my_calendar"),
    path("substitutions/", views.substitutions, name="substitutions"),
    path("substitutions/<id:substitution_id>/assign/", views.substitution_assign, name="substitution_assign"),
    path("plans/<id:plan_id>/", views.plan, name="plan"),
    path("plans/<id:plan_id>/shape/", views.plan_shape, name="plan_shape"),
    path("plans/<id:plan_id>/rooms/", views.rooms, name="rooms"),
    path("plans/<id:plan_id>/rooms/<id:room_id>/delete/", views.room_delete, name="room_delete"),
    path("plans/<id:plan_id>/courses/", views.courses, name="courses"),
    path("plans/<id:plan_id>/courses/generate/", views.courses_generate, name="courses_generate"),
    path("plans/<id:plan_id>/teaching-classes/", views.teaching_classes, name="teaching_classes"),
    path("plans/<id:plan_id>/electives/", elective_views.overview, name="electives"),
    path("plans/<id:plan_id>/electives/grade/", elective_views.grade, name="elective_grade"),
    path("plans/<id:plan_id>/electives/template/", elective_views.template, name="elective_template"),
    path("plans/<id:plan_id>/electives/import/", elective_views.import_choices, name="elective_import"),
    path("plans/<id:plan_id>/electives/choices/", elective_views.choices, name="elective_choices"),
    path("plans/<id:plan_id>/electives/form/", elective_views.form, name="elective_form"),
    path("plans/<id:plan_id>/electives/runs/<id:run_id>/", elective_views.result, name="elective_result"),
    path("plans/<id:plan_id>/electives/runs/<id:run_id>/apply/", elective_views.apply, name="elective_apply"),
    path("plans/<id:plan_id>/unavailable/", views.unavailable, name="unavailable"),
    path("plans/<id:plan_id>/rules/", views.rules, name="rules"),
    path("plans/<id:plan_id>/rules/<id:rule_id>/delete/", views.rule_delete, name="rule_delete"),
    path("plans/<id:plan_id>/solve/", views.solve, name="solve"),
    path("plans/<id:plan_id>/timetable/", views.timetable, name="timetable"),
    path("plans/<id:plan_id>/move/", views.move, name="move"),
    path("plans/<id:plan_id>/lock/", views.lock, name="lock"),
    path("plans/<id:plan_id>/publish/", views.publish, name="publish"),
    path("runs/<id:run_id>/", views.run, name="run"),
    path("runs/<id:run_id>/status/", views.run_status, name="run_status"),
    path("runs/<id:run_id>/cancel/", views.run_cancel, name="run_cancel"),
    path("versions/<id:version_id>/", views.version, name="version"),
    path("versions/<id:version_id>/export/<str:fmt>/", views.version_export, name="version_export"),
]
