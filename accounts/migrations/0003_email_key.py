import unicodedata
from collections import defaultdict

from django.db import migrations, models


def _canonical(address: str) -> str | None:
    # Frozen here as it was written (accounts.identity): a migration must not change when
    # live code does.
    local, at, domain = address.strip().rpartition("@")
    domain = domain.strip().rstrip(".")
    if not at or not local or not domain:
        return None
    try:
        ascii_domain = domain.encode("idna").decode("ascii")
    except UnicodeError:
        return None
    key = f"{unicodedata.normalize('NFKC', local).casefold()}@{ascii_domain.casefold()}"
    # Longer than the column (an international domain grows as xn--): no key, as in
    # accounts.identity since.
    return key if len(key) <= 254 and len(ascii_domain) <= 253 else None


def fill_email_keys(apps, schema_editor):
    """Every account gets its canonical address, except where two accounts share one: those
    keep none, so that nothing is granted to either by address until staff sort them out."""
    User = apps.get_model("accounts", "User")
    by_key = defaultdict(list)
    for pk, email in User.objects.exclude(email="").values_list("pk", "email"):
        key = _canonical(email)
        if key is not None:
            by_key[key].append(pk)
    for key, pks in by_key.items():
        if len(pks) == 1:
            User.objects.filter(pk=pks[0]).update(email_key=key)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_access_requests_and_audit"),
    ]

    operations = [
        migrations.AddField(
            model_name="user",
            name="email_key",
            field=models.CharField(editable=False, max_length=254, null=True, unique=True),
        ),
        migrations.RunPython(fill_email_keys, migrations.RunPython.noop),
    ]
