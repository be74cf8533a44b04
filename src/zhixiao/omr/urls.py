from django.urls import path

from . import views

app_name = "omr"

urlpatterns = [
    path("", views.papers, name="papers"),
    path("new/", views.paper_new, name="paper_new"),
    path("papers/<id:paper_id>/", views.paper, name="paper"),
    path("papers/<id:paper_id>/edit/", views.paper_edit, name="paper_edit"),
    path("papers/<id:paper_id>/sheet.pdf", views.sheet_pdf, name="sheet_pdf"),
    path("papers/<id:paper_id>/layout.json", views.layout_json, name="layout_json"),
    path("papers/<id:paper_id>/key/", views.answer_key, name="answer_key"),
    path("papers/<id:paper_id>/scans/", views.scans_upload, name="scans_upload"),
    path("papers/<id:paper_id>/review/", views.review_list, name="review_list"),
    path("papers/<id:paper_id>/assignments/", views.assignments, name="assignments"),
    path("papers/<id:paper_id>/mark/<int:question>/", views.mark, name="mark"),
    path("papers/<id:paper_id>/head/<int:question>/", views.head, name="head"),
    path("papers/<id:paper_id>/scores/", views.scores, name="scores"),
    path("papers/<id:paper_id>/scores.xlsx", views.scores_export, name="scores_export"),
    path("batches/<id:batch_id>/status/", views.batch_status, name="batch_status"),
    path("batches/<id:batch_id>/cancel/", views.batch_cancel, name="batch_cancel"),
    path("batches/<id:batch_id>/resume/", views.batch_resume, name="batch_resume"),
    path("review/<id:item_id>/", views.review, name="review"),
    path("pages/<id:page_id>/image/", views.page_image, name="page_image"),
    path("crops/<id:crop_id>/image/", views.crop_image, name="crop_image"),
]
