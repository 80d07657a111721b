"""The feed's centres and centre users (DOMAIN.md 5): `centres.csv` and `centre_users.csv`.

Declared here, with the rules for whom the feed may create or take over; `learners.feed.spec`
imports them in their place in a delivery.
"""

from dataclasses import dataclass, field

from django.db import connection
from django.db.models import Q
from django.db.models.expressions import RawSQL

from base import cells
from base.delivery import Column, Computed, FileSpec, Merge, require, table

from .emails import FEED_PASSWORD
from .identity import canonical_email_or_none
from .models import Centre, Membership, User

# A self-registration whose address is not confirmed yet: a centre user the feed delivers
# with its username or address takes it over (it may be someone squatting the address).
UNCONFIRMED = Q(is_active=False, confirmation_sent_at__isnull=False)


def take_over_unconfirmed_registrations(stage: str) -> None:
    q = connection.ops.quote_name
    User.objects.filter(UNCONFIRMED).filter(
        Q(username__in=RawSQL(f"SELECT username FROM {q(stage)}", ()))  # noqa: S611
        | Q(email_key__in=RawSQL(f"SELECT email_key FROM {q(stage)}", ()))  # noqa: S611
    ).delete()


@dataclass
class KnownPeople:
    """The centres and accounts rows refer to: those stored plus those accepted earlier in
    this delivery."""

    centres: set[str] = field(default_factory=set)
    # Accounts the feed must never take over: staff, and people who registered themselves.
    protected_usernames: set[str] = field(default_factory=set)
    # Canonical email address: the username of the account that has it.
    email_keys: dict[str, str] = field(default_factory=dict)

    @staticmethod
    def stored() -> dict:
        return {
            "centres": set(Centre.objects.values_list("number", flat=True)),
            "protected_usernames": set(
                User.objects.exclude(password=FEED_PASSWORD)
                .exclude(memberships__is_centre_user=True)
                .exclude(UNCONFIRMED)
                .values_list("username", flat=True)
            ),
            "email_keys": dict(
                User.objects.exclude(email_key=None)
                .exclude(UNCONFIRMED)
                .values_list("email_key", "username")
            ),
        }


def learn_centre(row, known: KnownPeople) -> None:
    if "number" in row:
        known.centres.add(row["number"])


def unknown_centre(row, known: KnownPeople) -> list[tuple[str, str]]:
    return [] if row["centre"] in known.centres else [("centre", "unknown centre")]


def _stage_centre(row, known: KnownPeople) -> dict:
    learn_centre(row, known)
    return {}


def _stage_centre_user(row, known: KnownPeople) -> dict:
    problems = unknown_centre(row, known)
    username = row["username"]
    if username in known.protected_usernames:
        problems.append(("username", "belongs to an account the feed did not create"))
    key = canonical_email_or_none(row["email"])
    if key is None:
        problems.append(("email", "not an address with a domain that can exist"))
    elif known.email_keys.setdefault(key, username) != username:
        # Compared canonically: a look-alike of another account's address is the same one.
        problems.append(("email", "already the address of another account"))
    require(problems)
    return {"email_key": key}


# What the feed gives an account it creates, and never changes afterwards.
NEW_ACCOUNT = {
    "password": f"'{FEED_PASSWORD}'",
    "is_superuser": "false",
    "is_staff": "false",
    "is_active": "true",
    "date_joined": "CURRENT_TIMESTAMP",
    "organisation": "''",
}

# A centre user administers their centre.
CENTRE_USER_ROLE = {
    "user_id": "u.id",
    "centre_id": "s.centre",
    "role": f"'{Membership.Role.ADMINISTRATOR}'",
    "is_centre_user": "true",
    "granted_at": "CURRENT_TIMESTAMP",
}


def centre_files() -> tuple[FileSpec, ...]:
    return (
        FileSpec(
            name="centres.csv",
            learn=learn_centre,
            columns=(
                Column("number", cells.centre_number, key=True),
                Column("name", cells.text(200)),
            ),
            key_words="number",
            stage=_stage_centre,
            merges=(Merge(table(Centre)),),
        ),
        FileSpec(
            name="centre_users.csv",
            columns=(
                Column("username", cells.username, key=True),
                Column("email", cells.email),
                Column("first_name", cells.text(150)),
                Column("last_name", cells.text(150)),
                Column("centre", cells.centre_number),
            ),
            computed=(Computed("email_key"),),
            key_words="username",
            stage=_stage_centre_user,
            before=(take_over_unconfirmed_registrations,),
            merges=(
                # New accounts get an unusable password: they set one from an emailed link.
                Merge(
                    table(User),
                    leave_out=("centre",),
                    select=NEW_ACCOUNT,
                    insert_only=frozenset(NEW_ACCOUNT),
                ),
                Merge(
                    table(Membership),
                    tuple(CENTRE_USER_ROLE),
                    ("user_id", "centre_id"),
                    select=CENTRE_USER_ROLE,
                    joins=f"JOIN {table(User)} u ON u.username = s.username",
                    # Memberships already as delivered are not touched, so a re-delivery does
                    # not hold the centre's roles locked (Manage Users waits for that).
                    where=(
                        f"NOT EXISTS (SELECT 1 FROM {table(Membership)} m "
                        "WHERE m.user_id = u.id AND m.centre_id = s.centre AND m.is_centre_user)"
                    ),
                    # A role an administrator has since changed on Manage Users stands.
                    insert_only=frozenset({"granted_at", "role"}),
                ),
            ),
        ),
    )
