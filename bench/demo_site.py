"""A small site of generated data for a benchmark: the shipped catalogue, one centre's
generated delivery, imported and rebuilt, in a database of the benchmark's own."""

import datetime
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def build(database_url: str, *, learners: int, seed: int):
    """Django set up on `database_url`, migrated and loaded; the centre."""
    os.environ.update(
        DATABASE_URL=database_url,
        DJANGO_SETTINGS_MODULE="learnertracking.settings",
        ALLOWED_HOSTS="testserver",
        DEBUG="1",
    )
    os.environ.pop("REDIS_URL", None)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command
    from django_scopes import scopes_disabled

    from accounts.models import Centre
    from demo.deliveries import generate
    from flags.snapshot import rebuild
    from learners.feed.importer import import_delivery
    from screens.management.commands.setup_demo import SHIPPED_CATALOGUE

    call_command("migrate", verbosity=0)
    folder = Path(tempfile.mkdtemp(prefix="lt-bench-"))
    with scopes_disabled():
        assert import_delivery(SHIPPED_CATALOGUE).imported
        generate(folder, centres=1, learners=learners, seed=seed, today=datetime.date.today())
        assert import_delivery(folder).imported
        rebuild()
        return Centre.objects.get()


def person(centre, username: str, role: str):
    """A person with a role on the centre, to sign the test client in as."""
    from django_scopes import scopes_disabled

    from accounts.models import Membership, User

    with scopes_disabled():
        user = User.objects.create_user(username, username)
        Membership.objects.create(user=user, centre=centre, role=role)
    return user
