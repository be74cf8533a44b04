from django.urls import path

from . import views

app_name = "workflow"

urlpatterns = [
    path("", views.lists, name="lists"),
    path("new/", views.new, name="new"),
    path("new/<slug:key>/", views.start, name="start"),
    path("requests/<id:request_id>/", views.detail, name="request"),
    path("requests/<id:request_id>/edit/", views.resubmit, name="resubmit"),
    path("requests/<id:request_id>/withdraw/", views.withdraw, name="withdraw"),
    path("requests/<id:request_id>/remind/", views.remind, name="remind"),
    path("tasks/<id:task_id>/decide/", views.decide, name="decide"),
    path("tasks/<id:task_id>/delegate/", views.delegate, name="delegate"),
    path("tasks/<id:task_id>/add-approver/", views.add_approver, name="add_approver"),
    path("attachments/<id:attachment_id>/", views.attachment, name="attachment"),
    path("definitions/", views.definitions, name="definitions"),
    path("definitions/<id:definition_id>/", views.definition_edit, name="definition_edit"),
    path("definitions/<id:definition_id>/export/", views.definition_export, name="definition_export"),
    path("definitions/<id:definition_id>/active/", views.definition_active, name="definition_active"),
]
