"""The weekly digest (issue 20): on Monday morning each person who wants it is told, for each
of their centres, what is overdue, what falls due in the next 14 days, which problems are new
since the week before and who is waiting for access, each with a link to the filtered page.

One a person a week: the WeeklyDigest row is written in the transaction that sends the
mail, so a second run of the week finds it (or, running at the same moment, waits on the
row's unique key and then finds it), and a run that died before its commit left nothing
behind for the next run (beat fires again on the hour that morning). The one gap is a
process that dies after the mail server accepted the mail and before the commit: that person
is sent it again on the next tick. A mail server that refuses the address for good is
noted, and not tried again that week.
"""

import datetime
import logging
import smtplib
from collections import defaultdict
from dataclasses import dataclass, field
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django_scopes import scopes_disabled

from accounts.models import AccessRequest, Centre, Membership, User, WeeklyDigest
from accounts.permissions import roles as roles_of
from base.mail import refused_for_good
from flags import codes
from flags.models import DetailLine, SnapshotChange
from flags.snapshot import current_run
from learners import diploma

from . import urgency

logger = logging.getLogger(__name__)

SENT_AT = datetime.time(7, 0)  # Monday, Europe/London
AHEAD = datetime.timedelta(days=14)  # today and the 13 days after
# Beat fires again on the hour until noon for whoever a dead worker or a refused send left
# out; after that a week's digest is stale and is not sent late.
LATE_BY_AT_MOST = datetime.timedelta(hours=5, minutes=59)
MOST_LINES = 30  # of each list in one centre's part; "and N more" links to the rest


@dataclass(frozen=True)
class Tally:
    """A number of learners with something to do for one component (and unit or claim)."""

    what: str
    learners: int
    link: str


@dataclass
class CentreNews:
    number: str
    name: str
    overdue: list[Tally] = field(default_factory=list)
    overdue_more: int = 0
    overdue_link: str = ""
    deadlines: list[tuple[datetime.date, list[Tally]]] = field(default_factory=list)
    deadlines_more: int = 0
    deadlines_link: str = ""
    new_problems: int = 0
    new_problems_link: str = ""
    waiting: int = 0
    waiting_link: str = ""

    def has_news(self) -> bool:
        return bool(self.overdue or self.deadlines or self.new_problems or self.waiting)


def _local(moment: datetime.datetime) -> datetime.datetime:
    return timezone.localtime(moment, ZoneInfo(settings.TIME_ZONE))


def send_time(week: datetime.date) -> datetime.datetime:
    """When the digest of the week starting that Monday is due."""
    return datetime.datetime.combine(week, SENT_AT, tzinfo=ZoneInfo(settings.TIME_ZONE))


def week_due(moment: datetime.datetime) -> datetime.date | None:
    """The Monday of the week whose digest is due at `moment`; None once it is too late."""
    local = _local(moment)
    monday = local.date() - datetime.timedelta(days=local.weekday())
    starts = send_time(monday)
    if local < starts:
        return None
    return monday if local - starts <= LATE_BY_AT_MOST else None


def _url(name: str, args=(), **query) -> str:
    base = settings.SITE_URL.rstrip("/") + reverse(name, args=args)
    return f"{base}?{urlencode(query)}" if query else base


def _what(component: str, element: str) -> str:
    name = diploma.COMPONENT_NAMES.get(component, component)
    return f"{name}: {element}" if element else name


def _detail_link(row: dict, **query) -> str:
    """The Detail filtered to the lines a count of the digest counts."""
    narrowing = {"element": row["element"]} if row["element"] else {}
    return _url("detail", centre=row["centre_id"], component=row["component"], **narrowing, **query)


def wants_digest() -> Q:
    """People sent the digest: their own choice, or by default a centre's administrators."""
    administers = Q(memberships__role=Membership.Role.ADMINISTRATOR)
    return Q(weekly_digest=True) | (Q(weekly_digest=None) & administers)


class Newsroom:
    """Each centre's news for one week, read from the database once per centre however many
    people it goes to."""

    def __init__(self, week: datetime.date, day: datetime.date) -> None:
        self.week, self.day = week, day
        self.run = current_run()
        self._news: dict[str, CentreNews] = {}

    def load(self, centres: set[str]) -> None:
        wanted = sorted(centres - self._news.keys())
        if not wanted:
            return
        names = dict(Centre.objects.filter(number__in=wanted).values_list("number", "name"))
        news = {c: CentreNews(number=c, name=names.get(c, "")) for c in wanted}
        with scopes_disabled():
            if self.run is not None:
                self._problems(news, wanted)
            waiting = (
                AccessRequest.objects.filter(
                    centre_id__in=wanted, status=AccessRequest.Status.PENDING
                )
                .values("centre_id")
                .annotate(n=Count("pk"))
            )
            for row in waiting:
                item = news[row["centre_id"]]
                item.waiting = row["n"]
                item.waiting_link = _url("manage_users", args=[item.number])
        self._news.update(news)

    def _problems(self, news: dict[str, CentreNews], wanted: list[str]) -> None:
        lines = DetailLine.objects.filter(run=self.run, centre_id__in=wanted)
        overdue = (
            lines.filter(urgency.condition(urgency.OVERDUE, self.day))
            .values("centre_id", "component", "element")
            .annotate(learners=Count("uln", distinct=True))
            .order_by("centre_id", "-learners", "component", "element")
        )
        for row in overdue:
            item = news[row["centre_id"]]
            item.overdue_link = _url("detail", centre=item.number, urgency=urgency.OVERDUE)
            if len(item.overdue) == MOST_LINES:
                item.overdue_more += 1
                continue
            link = _detail_link(row, urgency=urgency.OVERDUE)
            item.overdue.append(
                Tally(_what(row["component"], row["element"]), row["learners"], link)
            )
        last_day = self.day + AHEAD - datetime.timedelta(days=1)
        due = (
            lines.filter(ready=False, deadline__gte=self.day, deadline__lte=last_day)
            .exclude(severity=codes.INFO)
            .exclude(flag=codes.OVERDUE)
            .values("centre_id", "deadline", "component", "element")
            .annotate(learners=Count("uln", distinct=True))
            .order_by("centre_id", "deadline", "component", "element")
        )
        by_day: dict[str, dict[datetime.date, list[Tally]]] = defaultdict(dict)
        for row in due:
            item, days = news[row["centre_id"]], by_day[row["centre_id"]]
            item.deadlines_link = _url(
                "detail", centre=item.number, due_from=self.day, due_to=last_day
            )
            if sum(len(v) for v in days.values()) == MOST_LINES:
                item.deadlines_more += 1
                continue
            link = _detail_link(row, due_from=row["deadline"], due_to=row["deadline"])
            days.setdefault(row["deadline"], []).append(
                Tally(_what(row["component"], row["element"]), row["learners"], link)
            )
        for centre, days in by_day.items():
            news[centre].deadlines = sorted(days.items())
        # Found (by a build or a refresh) since last week's digest went out, up to this
        # week's: each change in exactly one week, whenever in the morning a person's is sent.
        new = (
            SnapshotChange.objects.filter(
                centre_id__in=wanted,
                kind=SnapshotChange.Kind.NEW_PROBLEM,
                recorded_at__gt=send_time(self.week - datetime.timedelta(days=7)),
                recorded_at__lte=send_time(self.week),
            )
            .values("centre_id")
            .annotate(n=Count("pk"))
        )
        for row in new:
            item = news[row["centre_id"]]
            item.new_problems = row["n"]
            item.new_problems_link = _url(
                "changes", centre=item.number, kind=SnapshotChange.Kind.NEW_PROBLEM, since="7"
            )

    def for_person(self, roles: dict[str, str]) -> list[CentreNews]:
        """The person's centres that have something to say; who waits for access is said
        only to a centre's administrators."""
        self.load(set(roles))
        told = []
        for centre, role in sorted(roles.items()):
            item = self._news[centre]
            if role != Membership.Role.ADMINISTRATOR and item.waiting:
                item = CentreNews(**{**item.__dict__, "waiting": 0, "waiting_link": ""})
            if item.has_news():
                told.append(item)
        return told


def context(user: User, week: datetime.date, centres: list[CentreNews]) -> dict:
    return {
        "user": user,
        "week": week,
        "centres": centres,
        "ahead_days": AHEAD.days,
        "notifications_link": _url("notifications"),
        "site_link": _url("home"),
    }


def render(
    user: User, week: datetime.date, centres: list[CentreNews], connection=None
) -> EmailMultiAlternatives:
    context_ = context(user, week, centres)
    subject = f"Learner Tracking: your week from {week:%-d %B %Y}"
    text = render_to_string("emails/digest.txt", context_)
    html = render_to_string("emails/digest.html", context_)
    message = EmailMultiAlternatives(
        subject,
        text,
        None,
        [user.email],
        connection=connection,
        # Mail programs offer "unsubscribe" by it: it leads to the page that stops it.
        headers={"List-Unsubscribe": f"<{context_['notifications_link']}>"},
    )
    message.attach_alternative(html, "text/html")
    return message


def recipients(week: datetime.date):
    """Active people with an address who want the digest and have not had this week's."""
    return (
        User.objects.filter(wants_digest(), is_active=True)
        .exclude(email="")
        .exclude(weekly_digests__week=week)
        .distinct()
        .order_by("pk")
    )


def send_weekly_digests(moment: datetime.datetime | None = None) -> int:
    """Send the week's digest to whoever is still owed it; the number of emails sent."""
    moment = moment or timezone.now()
    week = week_due(moment)
    if week is None:
        return 0
    newsroom = Newsroom(week, _local(moment).date())
    people = list(recipients(week))
    memberships = defaultdict(dict)
    for user_id, centre, role in Membership.objects.filter(
        user__in=recipients(week).values("pk")
    ).values_list("user_id", "centre_id", "role"):
        memberships[user_id][centre] = role
    # Every centre's news at once: a few queries however many people and centres.
    newsroom.load({centre for roles in memberships.values() for centre in roles})
    sent = 0
    # One connection to the mail server for the run (EMAIL_TIMEOUT bounds each wait on it).
    with get_connection() as connection:
        for person in people:
            try:
                sent += _send_one(person, week, newsroom, memberships[person.pk], connection)
            except Exception:
                # The others still get theirs; this person is tried again on the next tick.
                logger.exception("Could not send the weekly digest to user %s", person.pk)
    return sent


def _send_one(
    person: User, week: datetime.date, newsroom: Newsroom, roles: dict, connection
) -> int:
    centres = newsroom.for_person(roles)
    with transaction.atomic():
        try:
            with transaction.atomic():
                digest = WeeklyDigest.objects.create(
                    user=person, week=week, sent_at=timezone.now(), emailed=bool(centres)
                )
        except IntegrityError:
            return 0  # another run sent it a moment ago
        if not centres:
            return 0
        # Inside the transaction: if the send fails, or the worker dies before the commit,
        # the row goes with it and the next run sends.
        try:
            render(person, week, centres, connection).send()
        except (smtplib.SMTPRecipientsRefused, smtplib.SMTPResponseException) as exc:
            if not refused_for_good(exc):
                raise
            logger.warning("The mail server refused user %s's weekly digest", person.pk)
            digest.emailed = False
            digest.refused = f"{type(exc).__name__}: {exc}"[:500]
            digest.save(update_fields=["emailed", "refused"])
            return 0
    return 1


def preview(user: User, moment: datetime.datetime) -> tuple[datetime.date, list[CentreNews]]:
    """What the person's digest would say now, for the Notifications page."""
    local = _local(moment)
    week = local.date() - datetime.timedelta(days=local.weekday())
    return week, Newsroom(week, local.date()).for_person(roles_of(user))
