from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from accounts.models import Centre, Membership, User
from demo.deliveries import CATALOGUE_DIR
from flags.snapshot import rebuild
from learners.feed.importer import import_delivery

SHIPPED_CATALOGUE = CATALOGUE_DIR
DEMO_PASSWORD = "learner-tracking-demo"  # noqa: S105 - published for the demo only


class Command(BaseCommand):
    help = "Load the shipped catalogue and generated demo data, and create demo logins."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--delivery", default="var/demo-delivery", help="where to write it")
        parser.add_argument("--centres", type=int, default=5)
        parser.add_argument("--learners", type=int, default=500)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument(
            "--force", action="store_true", help="run even with DEBUG off (never in production)"
        )

    def handle(
        self, *args, delivery: str, centres: int, learners: int, seed: int, force: bool, **_
    ):
        if not settings.DEBUG and not force:
            raise CommandError("Demo logins have a published password: run with DEBUG on.")
        for folder in (SHIPPED_CATALOGUE, None):
            if folder is None:
                call_command(
                    "generate_demo_data", delivery, centres=centres, learners=learners, seed=seed
                )
                folder = Path(delivery)
            outcome = import_delivery(folder)
            if not outcome.imported:
                raise CommandError("\n".join(map(str, outcome.errors[:20])))
            self.stdout.write(f"Imported {folder}")
        run = rebuild()
        self.stdout.write(f"Built the overview: {run.learners} learners in {run.duration}")
        logins = self._create_logins()
        self.stdout.write(f"\nDemo logins (password for all: {DEMO_PASSWORD}):")
        for username, what in logins:
            self.stdout.write(f"  {username:<22} {what}")
        self.stdout.write("\nServing on http://127.0.0.1:8000/ — sign in with one of the above.\n")

    @transaction.atomic
    def _create_logins(self) -> list[tuple[str, str]]:
        first = Centre.objects.order_by("number").first()
        if first is None:
            raise CommandError("The demo delivery has no centres.")
        logins = []
        staff, _ = User.objects.get_or_create(
            username="staff", defaults={"email": "support@example.org", "first_name": "Support"}
        )
        staff.is_staff = staff.is_superuser = True
        staff.set_password(DEMO_PASSWORD)
        staff.save()
        logins.append(("staff", "awarding-body staff: /admin/ and every centre"))
        centre_user = (
            User.objects.filter(memberships__centre=first, memberships__is_centre_user=True)
            .order_by("username")
            .first()
        )
        if centre_user:
            centre_user.set_password(DEMO_PASSWORD)
            centre_user.save()
            logins.append((centre_user.username, f"centre user, administrator of {first}"))
        for username, role, what in (
            ("consortium-none", None, "non-centre user with no role yet"),
            ("consortium-viewer", Membership.Role.VIEWER, f"non-centre user, viewer of {first}"),
            (
                "la-admin",
                Membership.Role.ADMINISTRATOR,
                f"non-centre user, administrator of {first}",
            ),
        ):
            user, _ = User.objects.get_or_create(
                username=username,
                defaults={"email": f"{username}@example.org", "organisation": "Demo consortium"},
            )
            user.set_password(DEMO_PASSWORD)
            user.save()
            if role:
                Membership.objects.update_or_create(
                    user=user, centre=first, defaults={"role": role}
                )
            logins.append((username, what))
        return logins
