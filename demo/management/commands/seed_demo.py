from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from demo.accounts import DEMO_LOGINS, seed_people_and_organizations
from demo.escalations import seed_demo_escalations
from demo.writer import seed_cases, seed_demo_spread


class Command(BaseCommand):
    help = (
        "Creates the demo organizations, people, deployments, calendars, a spread of "
        "cases and a few escalations (idempotent). --cases N also generates N more cases."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--cases",
            type=int,
            default=None,
            metavar="N",
            help="Also generate N realistic cases across the demo organizations.",
        )

    def handle(self, *args, **options) -> None:
        count = options["cases"]
        if count is not None and count < 0:
            raise CommandError("--cases takes a number of cases, 0 or more.")
        now = timezone.now()
        created = seed_people_and_organizations(password=settings.DEMO_PASSWORD, now=now)
        self.stdout.write(
            f"Demo data ready: {created['organizations']} organizations and "
            f"{created['users']} users created (existing ones kept)."
        )
        spread = seed_demo_spread(now=now, stdout=self.stdout)
        if spread:
            self.stdout.write(f"{spread} demo cases added in every state.")
        escalations = seed_demo_escalations(now=now)
        if escalations:
            self.stdout.write(f"{escalations} demo escalations added.")
        if count:
            made = seed_cases(count=count, now=now, stdout=self.stdout)
            self.stdout.write(f"{made} cases generated.")
        if options["verbosity"] >= 1:
            self.stdout.write("Demo logins (password from DEMO_PASSWORD):")
            for email, what in DEMO_LOGINS:
                self.stdout.write(f"  {email:24} {what}")
