"""Periodic work on cases: thin tasks that call a service."""

from celery import shared_task
from django.utils import timezone

from cases.sla import sla_sweep


@shared_task(ignore_result=True)
def sweep_sla() -> int:
    """Mark open cases at risk or breached and notify care once per state (S-6)."""
    return sla_sweep(now=timezone.now())
