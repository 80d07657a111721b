"""Search Learner: by ULN, candidate number or name, within the user's centres only."""

import re

from django.db.models import Q, QuerySet

from accounts.permissions import visible_centre_numbers
from base.text import fold

from .models import Entry, Learner

_DIGITS = re.compile(r"[0-9]+")
_WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")


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
    words = [fold(w) for w in _WORD.findall(query)][:2]
    if not words:
        return visible.none()
    if len(words) == 1:
        (word,) = words
        return visible.filter(Q(surname_key__startswith=word) | Q(forename_key__startswith=word))
    first, second = words
    return visible.filter(
        Q(surname_key__startswith=first, forename_key__startswith=second)
        | Q(forename_key__startswith=first, surname_key__startswith=second)
    )
