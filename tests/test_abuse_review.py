"""Issue 17: what an independent review found still open after the first fixes."""

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from accounts.models import AuditEvent, Membership
from flags import rules
from flags.models import RebuildRun
from flags.snapshot import current_run, rebuild
from learnertracking.logs import scrub
from nonedexcel.models import NonEdexcelQualification, PendingUpload

from .factories import CentreFactory, LearnerFactory, UserFactory, uln_for

pytestmark = pytest.mark.django_db
PASSWORD = "correct horse battery"


def _staff_with(*codenames: str):
    user = UserFactory(username="helpdesk", is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    client = Client()
    client.force_login(user)
    return user, client


def test_the_admin_sign_in_is_limited_per_address_too(client):
    limit = int(settings.THROTTLE_RATES["sign-in"][0].split("/")[0])
    for attempt in range(limit):
        client.post(reverse("login"), {"username": f"random-{attempt}", "password": "x"})

    refused = client.post(reverse("admin:login"), {"username": "another", "password": "x"})

    assert refused.status_code == 429


def test_staff_cannot_give_their_group_more_permissions():
    user, client = _staff_with("change_group", "view_group")
    group = Group.objects.create(name="Helpdesk")
    user.groups.add(group)
    read_all = Permission.objects.get(codename="read_every_centre")

    response = client.post(
        reverse("admin:auth_group_change", args=[group.pk]),
        {"name": "Helpdesk", "permissions": [read_all.pk]},
    )

    assert response.status_code == 403
    assert not group.permissions.exists()


def test_a_superuser_changing_a_group_is_audited(staff):
    client = Client()
    client.force_login(staff)
    group = Group.objects.create(name="Support")
    read_all = Permission.objects.get(codename="read_every_centre")

    client.post(
        reverse("admin:auth_group_change", args=[group.pk]),
        {"name": "Support", "permissions": [read_all.pk]},
    )

    event = AuditEvent.objects.get(action=AuditEvent.Action.GROUP_CHANGED)
    assert event.subject == "group Support" and "read every centre" in str(event.after)


def test_staff_cannot_give_themselves_a_role_in_the_admin(centre):
    user, client = _staff_with("add_membership", "change_membership", "view_membership")

    response = client.post(
        reverse("admin:accounts_membership_add"),
        {"user": user.pk, "centre": centre.number, "role": "viewer"},
    )

    assert response.status_code == 403
    assert not Membership.objects.filter(user=user).exists()


def test_the_admins_learner_pages_need_the_permission_and_are_audited(centre):
    learner = LearnerFactory(centre=centre, uln=uln_for(5))
    url = reverse("admin:learners_learner_change", args=[learner.uln])
    _user, bare = _staff_with("view_learner")
    assert bare.get(url).status_code == 403

    support = UserFactory(username="support", is_staff=True)
    support.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_learner", "read_every_centre"])
    )
    client = Client()
    client.force_login(support)

    assert client.get(url).status_code == 200
    event = AuditEvent.objects.get(action=AuditEvent.Action.LEARNER_READ_BY_STAFF)
    assert (event.actor, event.learner_uln) == (support, learner.uln)


def test_a_learner_who_moved_since_the_preview_is_not_written(client, administrator, centre):
    learner = LearnerFactory(centre=centre, uln=uln_for(6))
    client.force_login(administrator)
    client.post(
        reverse("nonedexcel_upload"),
        {
            "file": SimpleUploadedFile(
                "quals.csv", f"uln,qan,component\n{learner.uln},500/1234/5,ASL\n".encode()
            )
        },
    )
    pending = PendingUpload.objects.get()
    client.get(reverse("nonedexcel_preview", args=[pending.pk]))
    elsewhere = CentreFactory(number="54321")
    learner.centre = elsewhere
    learner.save()

    client.post(reverse("nonedexcel_confirm", args=[pending.pk]))

    assert not NonEdexcelQualification.objects.exists()


def test_a_rebuild_failing_for_many_learners_fails_and_keeps_the_last_snapshot(centre, monkeypatch):
    for n in range(12):
        LearnerFactory(centre=centre, uln=uln_for(100 + n))
    good = rebuild()

    def failing(data, catalogue, today):
        raise ValueError("the catalogue is wrong")

    monkeypatch.setattr(rules, "evaluate", failing)
    with pytest.raises(Exception, match="the rules failed on 12 of 12 learners"):
        rebuild()

    failed = RebuildRun.objects.latest("started_at")
    assert (failed.outcome, failed.not_checked) == (RebuildRun.Outcome.FAILED, 12)
    assert current_run() == good


def test_axes_keeps_no_name_that_is_no_account(client):
    client.post(reverse("login"), {"username": "MySecretPassw0rd!", "password": "x"})

    stored = list(AccessAttempt.objects.values_list("username", flat=True))
    assert stored and not any("secret" in name.lower() for name in stored)


def test_passwords_are_left_as_typed(client):
    typed = "correct\u200dhorse battery"
    user = UserFactory(username="pat")
    user.set_password(typed)
    user.save()

    response = client.post(reverse("login"), {"username": "pat", "password": typed})

    assert response.status_code == 302


def test_the_scrubber_still_scrubs_learners_in_full_addresses():
    line = 'referer "https://lt.example.org/learners/John%20Smith/"'
    assert "John" not in scrub(line)


def test_a_nul_in_the_session_cookie_is_ignored(client):
    client.cookies[settings.SESSION_COOKIE_NAME] = "abcdefgh\x00ijkl"

    response = client.get(reverse("login"))

    assert response.status_code == 200
