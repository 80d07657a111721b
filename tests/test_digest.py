"""The weekly digest (issue 20, point 2): Monday 07:00 Europe/London, one a person a week,
administrators by default and viewers who ask, nothing for a centre with nothing to say."""

import datetime
import os
import signal
import time
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.urls import reverse

from accounts.models import AccessRequest, Membership, WeeklyDigest
from flags import codes
from flags.models import DetailLine, RebuildRun, SnapshotChange
from screens import digest

from . import factories

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")
MONDAY = datetime.datetime(2026, 12, 7, 7, 0, tzinfo=LONDON)
DAY = MONDAY.date()


def _line(run, n, centre, element, deadline, **extra):
    common = {
        "run": run,
        "uln": factories.uln_for(7000 + n),
        "centre": centre,
        "surname": f"Digest{n:02d}",
        "forename": "Dana",
        "line": "ENG",
        "level": "A",
        "award_series": "2027-06",
    }
    values = {
        "component": "PL",
        "component_order": 0,
        "element": element,
        "issue": "No entry has been made.",
        "deadline": deadline,
        "severity": "action",
        "flag": "missing",
        **extra,
    }
    # As the rebuild writes it: the rank goes with the severity.
    values["severity_rank"] = codes.SEVERITY_RANK.get(values["severity"], codes.READY_RANK)
    DetailLine.objects.create(**common, **values)
    return common


@pytest.fixture
def news(centre, other_centre, no_centre):
    """At `centre` on Monday 7 December 2026: one learner overdue on Unit A, two due on
    Unit B on Thursday, one due on the project's claim on the 18th, one due after the
    fortnight, one line for information, one problem new this week, one waiting request.
    At `other_centre`: only a ready line, and a problem new three weeks ago."""
    run = RebuildRun.objects.create(
        started_at=MONDAY, finished_at=MONDAY, built_for=DAY, outcome="succeeded"
    )
    _line(run, 1, centre, "Unit A", DAY - datetime.timedelta(days=6))
    _line(run, 2, centre, "Unit B", DAY + datetime.timedelta(days=3))
    _line(run, 3, centre, "Unit B", DAY + datetime.timedelta(days=3))
    _line(
        run, 4, centre, "Claim", DAY + datetime.timedelta(days=11), component="PROJECT", flag="due"
    )
    _line(run, 5, centre, "Unit far", DAY + datetime.timedelta(days=20))
    _line(run, 6, centre, "Unit info", DAY + datetime.timedelta(days=2), severity="info")
    who = _line(run, 7, other_centre, "", None, ready=True, flag="complete", severity="")
    for changed_on, at in (
        (DAY - datetime.timedelta(days=2), centre),
        (DAY - datetime.timedelta(days=21), other_centre),
    ):
        built = datetime.datetime.combine(changed_on, datetime.time(4, 30), tzinfo=LONDON)
        that_night = RebuildRun.objects.create(
            started_at=built, finished_at=built, built_for=changed_on, outcome="succeeded"
        )
        SnapshotChange.objects.create(
            **{**who, "centre": at, "run": that_night},
            changed_on=changed_on,
            recorded_at=built,
            component="PL",
            kind=SnapshotChange.Kind.NEW_PROBLEM,
            after="Unit B: No entry has been made.",
        )
    AccessRequest.objects.create(user=no_centre, centre=centre, role=Membership.Role.VIEWER)
    return centre


@pytest.fixture
def other_administrator(other_centre):
    user = factories.UserFactory(
        username="head@southfield.example.org", email="head@southfield.example.org"
    )
    factories.MembershipFactory(user=user, centre=other_centre, role=Membership.Role.ADMINISTRATOR)
    return user


def _sent_to() -> list[str]:
    return sorted(m.to[0] for m in mail.outbox)


def _to(address: str):
    (message,) = [m for m in mail.outbox if m.to == [address]]
    return message


@time_machine.travel(MONDAY, tick=False)
def test_it_tells_each_administrator_what_is_overdue_due_new_and_waiting(
    news, administrator, centre_user, viewer, other_administrator
):
    sent = digest.send_weekly_digests()

    assert sent == 2
    assert _sent_to() == ["admin@la.example.org", "exams@northgate.example.org"]
    message = _to("admin@la.example.org")
    assert message.subject == "Learner Tracking: your week from 7 December 2026"
    text = message.body
    assert "== Northgate College (12345) ==" in text
    assert "Overdue:\n- Principal learning: Unit A: 1 learner\n" in text
    assert "Thursday 10 December 2026\n- Principal learning: Unit B: 2 learners\n" in text
    assert "Friday 18 December 2026\n- Project: Claim: 1 learner\n" in text
    assert "Unit far" not in text and "Unit info" not in text
    assert "New problems since last week: 1\n" in text
    assert "Waiting for you to decide on access: 1 request\n" in text
    assert "Digest0" not in text and "Dana" not in text  # counts, never a learner's name
    overdue = (
        "http://127.0.0.1:8000/detail/?centre=12345&component=PL&element=Unit+A&urgency=overdue"
    )
    assert f"- Principal learning: Unit A: 1 learner\n  {overdue}\n" in text
    assert "Everything overdue: http://127.0.0.1:8000/detail/?centre=12345&urgency=overdue" in text
    every = "/detail/?centre=12345&due_from=2026-12-07&due_to=2026-12-20"
    assert f"Every deadline of the next 14 days: http://127.0.0.1:8000{every}" in text
    assert "/changes/?centre=12345&kind=new+problem&since=7" in text
    assert "/centres/12345/users/" in text
    assert "Southfield" not in text
    ((html, kind),) = message.alternatives
    assert kind == "text/html"
    due = (
        "http://127.0.0.1:8000/detail/?centre=12345&amp;component=PL&amp;element=Unit+B"
        "&amp;due_from=2026-12-10&amp;due_to=2026-12-10"
    )
    assert f'<a href="{due}">Principal learning: Unit B</a></td><td class="number">2</td>' in html
    assert "/notifications/" in html
    assert message.extra_headers["List-Unsubscribe"] == "<http://127.0.0.1:8000/notifications/>"
    # The other centre's administrator: a ready line and an old problem are no news.
    assert WeeklyDigest.objects.get(user=other_administrator).emailed is False


@time_machine.travel(MONDAY, tick=False)
def test_each_link_lists_the_learners_it_counts(client, news, administrator):
    import re
    from urllib.parse import urlsplit

    digest.send_weekly_digests()
    text = _to("admin@la.example.org").body
    client.force_login(administrator)

    counted = re.findall(r"- (.+): (\d+) learners?\n  (http\S+)", text)
    assert len(counted) == 3
    for what, learners, link in counted:
        url = urlsplit(link)
        page = client.get(f"{url.path}?{url.query}").content.decode()
        listed = set(re.findall(r"Digest\d\d", page))
        assert len(listed) == int(learners), (what, link, listed)
    for label, expected in (
        ("Everything overdue", {"Digest01"}),
        ("Every deadline of the next 14 days", {"Digest02", "Digest03", "Digest04"}),
    ):
        link = re.search(rf"{label}: (http\S+)", text).group(1)
        url = urlsplit(link)
        page = client.get(f"{url.path}?{url.query}").content.decode()
        assert set(re.findall(r"Digest\d\d", page)) == expected, label


@time_machine.travel(MONDAY, tick=False)
def test_a_long_list_says_how_many_more_and_links_to_them(news, administrator, monkeypatch):
    monkeypatch.setattr(digest, "MOST_LINES", 1)

    digest.send_weekly_digests()

    text = _to("admin@la.example.org").body
    assert "Thursday 10 December 2026\n- Principal learning: Unit B: 2 learners" in text
    assert "Claim" not in text
    assert "- and 1 more\nEvery deadline of the next 14 days:" in text


def test_a_build_after_seven_on_monday_is_news_the_week_after(news, administrator):
    late = MONDAY + datetime.timedelta(hours=2)
    run = RebuildRun.objects.create(
        started_at=late, finished_at=late, built_for=DAY, outcome="succeeded"
    )
    who = DetailLine.objects.filter(surname="Digest02").values(
        "uln", "centre_id", "surname", "forename", "line", "level", "award_series"
    )[0]
    SnapshotChange.objects.create(
        **who,
        run=run,
        changed_on=DAY,
        recorded_at=late,
        component="PL",
        kind="new problem",
        after="x",
    )
    DetailLine.objects.filter(run__finished_at=MONDAY).update(run=run)

    with time_machine.travel(MONDAY + datetime.timedelta(hours=3), tick=False):
        digest.send_weekly_digests()
    with time_machine.travel(MONDAY + datetime.timedelta(days=7), tick=False):
        digest.send_weekly_digests()

    first, second = [m.body for m in mail.outbox]
    assert "New problems since last week: 1\n" in first  # Saturday's build
    assert "New problems since last week: 1\n" in second  # Monday's, finished at 09:00


@time_machine.travel(MONDAY, tick=False)
def test_an_address_refused_for_good_is_noted_and_not_tried_again_that_week(
    news, administrator, centre_user
):
    import smtplib

    real_send = digest.EmailMultiAlternatives.send
    answers = {
        "admin@la.example.org": smtplib.SMTPRecipientsRefused(
            {"admin@la.example.org": (550, b"5.1.1 No such mailbox")}
        ),
        "exams@northgate.example.org": smtplib.SMTPRecipientsRefused(
            {"exams@northgate.example.org": (451, b"4.3.0 Try again later")}
        ),
    }
    tries = []

    def refused(message, *args, **kwargs):
        tries.append(message.to[0])
        if message.to[0] in answers:
            raise answers.pop(message.to[0])
        return real_send(message, *args, **kwargs)

    with mock.patch.object(digest.EmailMultiAlternatives, "send", refused):
        digest.send_weekly_digests()
        with time_machine.travel(MONDAY + datetime.timedelta(hours=1), tick=False):
            digest.send_weekly_digests()

    # For good (550): noted, not tried again; for now (451): sent on the next tick.
    assert sorted(tries) == [
        "admin@la.example.org",
        "exams@northgate.example.org",
        "exams@northgate.example.org",
    ]
    noted = WeeklyDigest.objects.get(user=administrator)
    assert noted.emailed is False and "No such mailbox" in noted.refused
    assert _sent_to() == ["exams@northgate.example.org"]


@pytest.mark.django_db(transaction=True)
def test_two_runs_at_once_send_each_person_one(news, administrator, centre_user, viewer):
    """Beat fired twice and two workers took the ticks at the same moment: both read who is
    owed a digest before either sends; the second waits on the row's unique key."""
    import threading

    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("two connections writing at once: PostgreSQL")
    both_read = threading.Barrier(2, timeout=20)
    real_load = digest.Newsroom.load

    def load_then_wait(newsroom, centres):
        real_load(newsroom, centres)
        if not getattr(newsroom, "waited", False):  # once, before either writes
            newsroom.waited = True
            both_read.wait()

    counts = []

    def run():
        try:
            with time_machine.travel(MONDAY, tick=False):
                counts.append(digest.send_weekly_digests())
        finally:
            connection.close()

    with mock.patch.object(digest.Newsroom, "load", load_then_wait):
        threads = [threading.Thread(target=run) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)

    assert sorted(counts) in ([0, 2], [1, 1])
    assert _sent_to() == ["admin@la.example.org", "exams@northgate.example.org"]
    assert WeeklyDigest.objects.count() == 2


@time_machine.travel(MONDAY, tick=False)
def test_a_viewer_who_asks_gets_it_without_the_access_requests(client, news, viewer):
    client.force_login(viewer)
    page = client.get(reverse("notifications")).content.decode()
    assert "You do not receive the weekly digest" in page

    client.post(reverse("notifications"), {"weekly_digest": "on"})
    digest.send_weekly_digests()

    text = _to("viewer@consortium.example.org").body
    assert "Unit B: 2 learners" in text
    assert "access" not in text.split("==")[-1].split("Learner Tracking:")[0]
    assert "Waiting" not in text


@time_machine.travel(MONDAY, tick=False)
def test_an_administrator_who_stops_it_gets_none(client, news, administrator, centre_user):
    client.force_login(administrator)
    response = client.post(reverse("notifications"), {"weekly_digest": "off"}, follow=True)
    assert "You will not receive the weekly digest." in response.content.decode()

    digest.send_weekly_digests()

    assert _sent_to() == ["exams@northgate.example.org"]
    administrator.refresh_from_db()
    assert administrator.weekly_digest is False
    # Started again: the default again, so that it follows their role from now on.
    client.post(reverse("notifications"), {"weekly_digest": "on"})
    administrator.refresh_from_db()
    assert administrator.weekly_digest is None


def test_it_refuses_a_choice_it_does_not_offer(client, viewer):
    client.force_login(viewer)
    response = client.post(reverse("notifications"), {"weekly_digest": "daily"})

    assert response.status_code == 200
    page = response.content.decode()
    assert 'class="error-summary"' in page and "Select a valid choice" in page
    viewer.refresh_from_db()
    assert viewer.weekly_digest is None


def test_it_sends_one_a_person_a_week_however_often_it_runs(news, administrator, centre_user):
    ticks = [
        MONDAY - datetime.timedelta(minutes=1),  # Monday 06:59: not yet
        MONDAY,
        MONDAY,  # beat fired twice
        MONDAY + datetime.timedelta(hours=1),
        MONDAY + datetime.timedelta(hours=5),
        MONDAY + datetime.timedelta(days=1),  # Tuesday: last week's is not sent late
        MONDAY + datetime.timedelta(days=7),
        MONDAY + datetime.timedelta(days=7, hours=1),
    ]
    for tick in ticks:
        with time_machine.travel(tick, tick=False):
            digest.send_weekly_digests()

    assert _sent_to() == ["admin@la.example.org"] * 2 + ["exams@northgate.example.org"] * 2
    weeks = sorted(WeeklyDigest.objects.values_list("week", flat=True).distinct())
    assert weeks == [DAY, DAY + datetime.timedelta(days=7)]


def test_a_send_that_fails_is_tried_on_the_next_tick_and_no_one_gets_two(
    news, administrator, centre_user
):
    real_send = digest.EmailMultiAlternatives.send

    def refused_for_one(message, *args, **kwargs):
        if message.to == ["exams@northgate.example.org"]:
            raise ConnectionRefusedError("SMTP server down")
        return real_send(message, *args, **kwargs)

    refused = mock.patch.object(digest.EmailMultiAlternatives, "send", refused_for_one)
    with time_machine.travel(MONDAY, tick=False), refused:
        assert digest.send_weekly_digests() == 1
    assert _sent_to() == ["admin@la.example.org"]
    assert not WeeklyDigest.objects.filter(user=centre_user).exists()

    with time_machine.travel(MONDAY + datetime.timedelta(hours=1), tick=False):
        assert digest.send_weekly_digests() == 1

    assert _sent_to() == ["admin@la.example.org", "exams@northgate.example.org"]


@time_machine.travel(MONDAY, tick=False)
def test_it_reads_each_centres_news_once_however_many_people_it_goes_to(
    news, administrator, centre_user, other_administrator
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for n in range(5):
        user = factories.UserFactory(email=f"deputy{n}@northgate.example.org")
        factories.MembershipFactory(user=user, centre=news, role=Membership.Role.ADMINISTRATOR)

    with CaptureQueriesContext(connection) as queries:
        assert digest.send_weekly_digests() == 7

    reads = [q["sql"] for q in queries if "flags_detailline" in q["sql"]]
    assert len(reads) == 2  # what is overdue, what falls due
    assert sum("flags_snapshotchange" in q["sql"] for q in queries) == 1
    assert sum("accounts_accessrequest" in q["sql"] for q in queries) == 1


@pytest.mark.parametrize(
    ("moment", "week"),
    [
        (datetime.datetime(2026, 12, 7, 6, 59, tzinfo=LONDON), None),
        (datetime.datetime(2026, 12, 7, 7, 0, tzinfo=LONDON), datetime.date(2026, 12, 7)),
        (datetime.datetime(2026, 12, 7, 12, 0, tzinfo=LONDON), datetime.date(2026, 12, 7)),
        (datetime.datetime(2026, 12, 8, 7, 0, tzinfo=LONDON), None),
        # Summer time: 07:00 in London is 06:00 UTC.
        (datetime.datetime(2026, 6, 1, 6, 0, tzinfo=datetime.UTC), datetime.date(2026, 6, 1)),
        (datetime.datetime(2026, 6, 1, 5, 59, tzinfo=datetime.UTC), None),
    ],
)
def test_it_knows_which_week_is_due(moment, week):
    assert digest.week_due(moment) == week


@time_machine.travel(MONDAY, tick=False)
def test_the_preview_shows_what_the_digest_would_say(client, news, viewer):
    client.force_login(viewer)

    response = client.get(reverse("digest_preview"))

    assert response.status_code == 200
    page = response.content.decode()
    assert "Northgate College (12345)" in page
    assert "Principal learning: Unit B" in page
    assert "request for access" not in page  # a viewer is not told who waits
    nonce = response["Content-Security-Policy"].split("'nonce-")[1].split("'")[0]
    assert f'<style nonce="{nonce}">' in page


def test_the_preview_says_when_nothing_would_be_sent(client, no_centre):
    client.force_login(no_centre)

    page = client.get(reverse("digest_preview")).content.decode()

    assert "no digest would be sent" in page


@time_machine.travel(MONDAY, tick=False)
def test_the_preview_shows_only_the_persons_own_centres(client, news, other_viewer, staff):
    for person in (other_viewer, staff):
        client.force_login(person)

        page = client.get(reverse("digest_preview")).content.decode()

        assert "12345" not in page and "Unit B" not in page
        assert "no digest would be sent" in page


# --- through beat's own schedule, Redis and a real worker, one of them killed mid-run --------


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs REDIS_URL (CI sets it)")
def test_two_weeks_of_beat_send_each_person_one_digest_a_week_through_a_worker(
    tmp_path, news, administrator, centre_user, viewer, other_administrator
):
    from celery import Celery
    from celery.beat import ScheduleEntry
    from django.conf import settings

    from learnertracking.celery import app

    from .processes import mails_in, start_mail_worker, wait_for

    viewer.weekly_digest = True
    viewer.save(update_fields=["weekly_digest"])
    queue = f"test-digest-{os.getpid()}"

    def start(slow: bool):
        return start_mail_worker(tmp_path, queue, SLOW_DIGEST="1" if slow else "")

    beat = settings.CELERY_BEAT_SCHEDULE["send-weekly-digests"]
    start_at = datetime.datetime(2026, 12, 6, 23, 0, tzinfo=LONDON)
    with time_machine.travel(start_at, tick=False):
        entry = ScheduleEntry(
            name="send-weekly-digests", task=beat["task"], schedule=beat["schedule"], app=app
        )
    sender = Celery("sender", broker=os.environ["REDIS_URL"], set_as_current=False)
    worker = start(slow=True)
    fired = []
    try:
        for hour in range(1, 14 * 24 + 2):
            moment = start_at + datetime.timedelta(hours=hour)
            with time_machine.travel(moment, tick=False):
                due, _ = entry.is_due()
                if due:
                    entry = entry._next_instance()
            if not due:
                continue
            fired.append(moment)
            times = 2 if moment == MONDAY else 1  # beat fires twice the first time
            for _ in range(times):
                sender.send_task(beat["task"], kwargs={"at": moment.isoformat()}, queue=queue)
            if moment == MONDAY:
                # Killed once one person has theirs: the others are left for the next hour.
                assert wait_for(lambda: WeeklyDigest.objects.exists(), 60), "no digest sent"
                worker.send_signal(signal.SIGKILL)
                worker.wait(timeout=20)
                done = WeeklyDigest.objects.count()
                assert 1 <= done < 4, done  # some sent, some left for the next tick
                worker = start(slow=False)

        assert [m.strftime("%a %d %H:%M") for m in fired] == [
            f"Mon {day:02d} {hour:02d}:00" for day in (7, 14) for hour in range(7, 13)
        ]
        assert wait_for(lambda: WeeklyDigest.objects.count() == 8, 60), "a week was left out"
        channel = sender.connection().default_channel
        assert wait_for(lambda: channel.client.llen(queue) == 0, 60)
        time.sleep(1)  # the last task taken finishes
    finally:
        sender.close()
        worker.kill()
        worker.wait(timeout=20)

    mails = mails_in(tmp_path)
    addresses = sorted(address for address, _, _ in mails)
    assert addresses == sorted(
        ["admin@la.example.org", "exams@northgate.example.org", "viewer@consortium.example.org"] * 2
    )
    first, second = DAY, DAY + datetime.timedelta(days=7)
    assert set(WeeklyDigest.objects.values_list("week", flat=True)) == {first, second}
    assert not WeeklyDigest.objects.get(user=other_administrator, week=second).emailed
    bodies = [body for address, _, body in mails if address == "admin@la.example.org"]
    week_one, week_two = sorted(bodies, key=lambda b: "14 December" in b)
    assert "Thursday 10 December 2026\n- Principal learning: Unit B: 2 learners" in week_one
    assert "New problems since last week: 1" in week_one
    # A week on, Unit B's deadline has passed and the project's claim is due within 14 days.
    assert "Overdue:\n- Principal learning: Unit B: 2 learners\n" in week_two
    assert "Friday 18 December 2026\n- Project: Claim: 1 learner" in week_two
    assert "New problems" not in week_two
