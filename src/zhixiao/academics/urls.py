from django.urls import path

from . import views

app_name = "academics"

urlpatterns = [
    path("", views.exams, name="exams"),
    path("new/", views.exam_new, name="exam_new"),
    path("mine/", views.mine, name="mine"),
    path("cards/<id:exam_student_id>.pdf", views.report_card, name="report_card"),
    path("<id:exam_id>/", views.exam, name="exam"),
    path("<id:exam_id>/subjects/<id:subject_id>/", views.subject_edit, name="subject_edit"),
    path("<id:exam_id>/status/", views.exam_status, name="exam_status"),
    path("<id:exam_id>/grid/", views.grid, name="grid"),
    path("<id:exam_id>/cell/", views.cell, name="cell"),
    path("<id:exam_id>/import/", views.import_scores, name="import"),
    path("<id:exam_id>/template.xlsx", views.template, name="template"),
    path("<id:exam_id>/analysis/", views.analysis, name="analysis"),
    path("<id:exam_id>/analysis.xlsx", views.analysis_export, name="analysis_export"),
    path("<id:exam_id>/grade.pdf", views.grade_report, name="grade_report"),
    path("<id:exam_id>/class.pdf", views.class_report, name="class_report"),
]
