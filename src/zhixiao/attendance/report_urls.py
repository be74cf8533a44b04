"""The live board and the reports; included into the attendance app's urls (app_name "attendance")."""

from django.urls import path

from . import report_views

urlpatterns = [
    path("board/", report_views.board, name="board"),
    path("board/counts/", report_views.board_counts, name="board_counts"),
    path("board/feed/", report_views.board_feed, name="board_feed"),
    path("board/absent/", report_views.board_absent, name="board_absent"),
    path("reports/", report_views.report_page, name="reports"),
    path("reports/export/", report_views.report_export, name="report_export"),
]
