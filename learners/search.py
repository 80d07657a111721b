"""Search Learner: by ULN, candidate number or name, within the request's scope."""

import re

from django.db.models import F, Q, QuerySet, Value
from django.db.models.functions import Replace

from accounts.permissions import visible_centre_numbers
from base.text import search_key

from .models import Entry, Learner

_DIGITS = re.compile(r"[0-9]+")
_MAX_WORDS = 6


def search_learners(user, query: str) -> QuerySet[Learner]:
    """Learners the user may see that match the query, by the kind of query it is."""
    visible = Learner.objects.select_related("centre", "line")
    query = query.strip()
    if not query:
        return visible.none()
    if _DIGITS.fullmatch(query):
        if len(query) == 10:
            return visible.filter(uln=query)
        if len(query) <= 4:
            entered_as = Entry.objects.filter(candidate_number=query.zfill(4))
            centres = visible_centre_numbers(user)
            if centres is not None:
                # A candidate number means something only at the centre that entered it.
                entered_as = entered_as.filter(centre_id__in=centres)
            entered_as = entered_as.values("learner_id")
            return visible.filter(uln__in=entered_as)
        return visible.none()
    key = " ".join(search_key(query).split()[:_MAX_WORDS])
    if not key:
        return visible.none()
    return visible.annotate(
        surname_squashed=Replace(F("surname_key"), Value(" "), Value(""))
    ).filter(_matching(key))


def _matching(key: str) -> Q:
    """A name, however it is typed: the surname whole or from any of its parts ('Jones'
    finds Smith-Jones), run together ('OSullivan' finds O'Sullivan), the forename, or a
    forename and surname in either order."""
    words = key.split()
    found = _surname(key) | Q(forename_key__startswith=key)
    for split in range(1, len(words)):
        first, rest = " ".join(words[:split]), " ".join(words[split:])
        found |= Q(forename_key__startswith=first) & _surname(rest)
        found |= _surname(first) & Q(forename_key__startswith=rest)
    return found


def _surname(key: str) -> Q:
    """A surname typed whole, from any of its parts, or run together."""
    return (
        Q(surname_key__startswith=key)
        | Q(surname_key__contains=f" {key}")
        | Q(surname_squashed__startswith=key.replace(" ", ""))
    )
