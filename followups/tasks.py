"""The follow-up sweep's Celery task: thin, the sweep does the work (ARCHITECTURE)."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from followups.sweep import SWEEP_BATCH, followup_sweep


@shared_task(ignore_result=True)
def sweep_followups(batch: int = SWEEP_BATCH) -> int:
    return followup_sweep(now=timezone.now(), batch=batch)
