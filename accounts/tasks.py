from celery import shared_task
from django.utils import timezone

from accounts.services import calendars_extend_holiday_snapshots


@shared_task
def extend_holiday_snapshots() -> int:
    return calendars_extend_holiday_snapshots(now=timezone.now())
