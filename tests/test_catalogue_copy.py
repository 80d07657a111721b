"""Issue 21: the ILR read the whole catalogue on every request. Each process keeps a copy
(flags.loaders.current_catalogue) until a change to the catalogue commits: from the admin
(the ORM) or from the feed."""

import shutil
from pathlib import Path

import pytest

from flags.loaders import current_catalogue
from learners.feed.importer import import_delivery
from learners.models import Qualification, Unit

from .factories import QualificationFactory, UnitFactory

VALID = Path(__file__).parent / "data" / "valid_delivery"


@pytest.mark.django_db
def test_it_reads_the_catalogue_once_until_it_changes(django_assert_num_queries):
    QualificationFactory()
    first = current_catalogue()

    with django_assert_num_queries(0):
        again = current_catalogue()

    assert again is first


@pytest.mark.django_db
def test_a_change_in_the_admin_is_read_once_it_commits(django_capture_on_commit_callbacks):
    unit = UnitFactory(glh=30)
    current_catalogue()

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        Unit.objects.filter(pk=unit.pk).update(glh=60)  # no signal: as a raw write would be
        unit.glh = 60
        unit.save()
        # Not committed yet: every process keeps the catalogue it has.
        assert current_catalogue().units[unit.code].glh == 30
    for callback in callbacks:
        callback()

    assert current_catalogue().units[unit.code].glh == 60


@pytest.mark.django_db
def test_a_deletion_is_read_once_it_commits(django_capture_on_commit_callbacks):
    unit = UnitFactory()
    code = unit.code  # the primary key: gone from `unit` once it is deleted
    assert code in current_catalogue().units

    with django_capture_on_commit_callbacks(execute=True):
        unit.delete()

    assert code not in current_catalogue().units


@pytest.mark.django_db
def test_a_delivery_of_the_catalogue_is_read_once_it_commits(
    tmp_path, django_capture_on_commit_callbacks
):
    folder = tmp_path / "delivery"
    shutil.copytree(VALID, folder)
    import_delivery(folder)
    before = current_catalogue()
    path = folder / "qualifications.csv"
    text = path.read_text(encoding="utf-8-sig")
    code = Qualification.objects.order_by("code").values_list("code", flat=True).first()
    title = Qualification.objects.get(code=code).title
    path.write_text(text.replace(title, "A new title", 1), encoding="utf-8")

    with django_capture_on_commit_callbacks(execute=True):
        outcome = import_delivery(folder)

    assert outcome.imported, outcome.errors
    after = current_catalogue()
    assert after is not before
    assert after.qualifications[code].title == "A new title"
