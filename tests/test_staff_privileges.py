"""Issue 17, points 1-3: what staff may do in the admin, and what being staff alone gives."""

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse

from accounts import audit
from accounts.models import AuditEvent, Centre, User

from .factories import LearnerFactory, UserFactory, uln_for
from .test_admin import _posted_back

pytestmark = pytest.mark.django_db


def _user_url(user: User, view: str = "change") -> str:
    return reverse(f"admin:accounts_user_{view}", args=[user.pk])


@pytest.fixture
def helpdesk(db) -> User:
    """Staff holding only the admin's "view/change user" permissions."""
    user = UserFactory(username="helpdesk", is_staff=True)
    user.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_user", "change_user", "delete_user"])
    )
    return user


@pytest.fixture
def helpdesk_client(helpdesk) -> Client:
    client = Client()
    client.force_login(helpdesk)
    return client


def _form(client: Client, user: User) -> dict:
    """The change form's fields as the page would post them back."""
    response = client.get(_user_url(user))
    assert response.status_code == 200
    data = _posted_back(response)
    data.pop("password", None)
    return data


# --- 1. privileges ---------------------------------------------------------------------------


def test_staff_with_change_user_cannot_make_themselves_superuser(helpdesk_client, helpdesk):
    data = _form(helpdesk_client, helpdesk)
    data.update(is_superuser="on", is_staff="on")
    data["user_permissions"] = list(Permission.objects.values_list("pk", flat=True)[:5])

    helpdesk_client.post(_user_url(helpdesk), data)

    helpdesk.refresh_from_db()
    assert not helpdesk.is_superuser
    assert set(helpdesk.user_permissions.values_list("codename", flat=True)) == {
        "view_user",
        "change_user",
        "delete_user",
    }


def test_staff_cannot_change_or_set_the_password_of_a_superuser(helpdesk_client, staff):
    assert helpdesk_client.get(_user_url(staff)).status_code in (200, 403)
    response = helpdesk_client.post(
        reverse("admin:auth_user_password_change", args=[staff.pk]),
        {"password1": "a new long passphrase", "password2": "a new long passphrase"},
    )
    assert response.status_code == 403
    data = {"username": "staff", "email": "mine@evil.example", "is_active": "on"}
    assert helpdesk_client.post(_user_url(staff), data).status_code == 403
    staff.refresh_from_db()
    assert staff.check_password("correct horse battery")
    assert staff.email != "mine@evil.example"


def test_every_change_to_a_user_in_the_admin_is_audited(staff, viewer):
    client = Client()
    client.force_login(staff)
    data = _form(client, viewer)
    data.update(first_name="Renamed", is_staff="on")

    assert client.post(_user_url(viewer), data).status_code == 302
    response = client.post(
        reverse("admin:auth_user_password_change", args=[viewer.pk]),
        {"password1": "a new long passphrase", "password2": "a new long passphrase"},
    )
    assert response.status_code == 302

    changed = AuditEvent.objects.get(action=AuditEvent.Action.ACCOUNT_CHANGED)
    assert changed.actor == staff and changed.subject == viewer.email
    assert changed.before == {"first_name": "Alex", "is_staff": False}
    assert changed.after == {"first_name": "Renamed", "is_staff": True}
    password = AuditEvent.objects.get(action=AuditEvent.Action.PASSWORD_SET_BY_STAFF)
    assert password.subject == viewer.email and password.before is None


# --- 2. being staff is not reading every centre ------------------------------------------------


def test_being_staff_alone_reads_no_centre(centre):
    learner = LearnerFactory(centre=centre, uln=uln_for(4242))
    bare = UserFactory(username="bare-staff", is_staff=True)
    client = Client()
    client.force_login(bare)

    assert client.get(reverse("learner_record", args=[learner.uln])).status_code == 404
    export = client.get(reverse("overview_export"))
    assert learner.uln not in b"".join(export.streaming_content).decode()


def test_support_staff_read_every_centre_and_each_record_read_is_audited(centre):
    learner = LearnerFactory(centre=centre, uln=uln_for(4242))
    support = UserFactory(username="support", is_staff=True)
    support.user_permissions.add(Permission.objects.get(codename="read_every_centre"))
    client = Client()
    client.force_login(support)

    assert client.get(reverse("learner_record", args=[learner.uln])).status_code == 200

    event = AuditEvent.objects.get(action=AuditEvent.Action.LEARNER_READ_BY_STAFF)
    assert (event.actor, event.centre_id, event.learner_uln) == (support, "12345", learner.uln)


# --- 3. the last-administrator rule and the audit trail in the admin --------------------------


def test_staff_cannot_deactivate_or_delete_the_last_centre_user_administrator(staff, centre_user):
    client = Client()
    client.force_login(staff)
    data = _form(client, centre_user)
    data.pop("is_active", None)

    response = client.post(_user_url(centre_user), data)

    assert response.status_code == 200
    assert b"without a centre-user administrator" in response.content
    assert client.get(_user_url(centre_user, "delete")).status_code == 403
    changelist = client.get(reverse("admin:accounts_user_changelist"))
    assert "delete_selected" not in changelist.content.decode()
    centre_user.refresh_from_db()
    assert centre_user.is_active


def test_deleting_an_account_is_audited(staff, viewer):
    client = Client()
    client.force_login(staff)

    response = client.post(_user_url(viewer, "delete"), {"post": "yes"})

    assert response.status_code == 302
    event = AuditEvent.objects.get(action=AuditEvent.Action.ACCOUNT_DELETED)
    assert event.subject == viewer.email


def test_deleting_a_centre_keeps_its_number_on_its_audit_events(staff, viewer, centre):
    audit.record(staff, AuditEvent.Action.ROLE_GRANTED, centre=centre, subject=viewer.email)

    Centre.objects.filter(pk="12345").delete()

    assert list(AuditEvent.objects.values_list("centre_id", flat=True)) == ["12345"]


# --- 4. bounded work for anyone ----------------------------------------------------------------


def test_a_process_computes_only_a_few_password_hashes_at_once(monkeypatch, settings):
    import threading
    import time

    from django.contrib.auth.hashers import Argon2PasswordHasher

    from accounts import hashers

    settings.PASSWORD_HASHING_CONCURRENCY = 2
    monkeypatch.setattr(hashers, "_slots", None)
    running, most = [0], [0]
    lock = threading.Lock()

    def slow_hash(self, password, salt):
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        time.sleep(0.05)
        with lock:
            running[0] -= 1
        return "argon2$fake"

    monkeypatch.setattr(Argon2PasswordHasher, "encode", slow_hash)
    hasher = hashers.BoundedArgon2PasswordHasher()
    threads = [
        threading.Thread(target=hasher.encode, args=("secret", "saltsaltsalt")) for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert most[0] == 2
