"""Kernel tables: the append-only, hash-chained audit log."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditRecord(models.Model):
    """One thing that happened: a change to people data, a view of a sensitive field, a login…

    Rows are only ever inserted (a database trigger refuses UPDATE and DELETE) and each row's hash covers
    its content and the previous row's hash, so `zhixiao audit verify` finds any record edited or removed.
    """

    seq = models.BigIntegerField(unique=True, verbose_name=_("序号"))
    at = models.DateTimeField(db_index=True, verbose_name=_("时间"))
    actor_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    actor_label = models.CharField(max_length=150, blank=True, verbose_name=_("操作人"))
    school_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    action = models.CharField(max_length=64, db_index=True, verbose_name=_("操作"))
    target_type = models.CharField(max_length=64, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    target_label = models.CharField(max_length=200, blank=True, verbose_name=_("对象"))
    changes = models.JSONField(default=dict, blank=True)  # {"field": [before, after]} or details
    note = models.CharField(max_length=500, blank=True)
    ip = models.CharField(max_length=64, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["-seq"]
        verbose_name = _("审计记录")
        verbose_name_plural = _("审计记录")
        indexes = [models.Index(fields=["target_type", "target_id"])]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} {self.target_label}"
