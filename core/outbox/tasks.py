from celery import shared_task
from django.utils import timezone

from core.outbox.services import SEND_EMAIL_TASK, outbox_send, outbox_sweep


# Rung by name from the outbox service (after commit): the name is part of the contract.
@shared_task(name=SEND_EMAIL_TASK, ignore_result=True)
def send_outbox_email(email_id: int) -> bool:
    return outbox_send(email_id=email_id)


@shared_task(ignore_result=True)
def sweep_outbox() -> int:
    return outbox_sweep(now=timezone.now())
