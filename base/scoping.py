"""Learner data scoped to centres, failing closed (django-scopes, as pretix does).

Every model that carries learner data gets its default manager from here. Inside
`scope(centre=[...])` its queries return the rows of those centres only; inside
`scope(centre=None)` every centre's (staff who read every centre); inside `scopes_disabled()`
everything (the feed, the rebuild, tests' fixtures). Outside any scope a query
raises `ScopeError` instead of returning another centre's learners.

The request scope is entered once, by `accounts.scoping.CentreScope`; Celery tasks start
outside any scope, whoever queued them (`learnertracking.celery`).
"""

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager

from django.db import models
from django_scopes import get_scope, scope
from django_scopes.manager import DisabledQuerySet
from django_scopes.state import state

CENTRE = "centre"
Centres = list[str] | None  # None: every centre


class _OutsideAnyScope(DisabledQuerySet):
    """django-scopes' refusal, closed further: it lets `exists()`, `exclude()` and a few
    more through, which would read every centre's rows."""

    _refuse = DisabledQuerySet.error
    exists = exclude = select_related = prefetch_related = defer = distinct = _refuse
    explain = in_bulk = contains = alias = extra = bulk_update = _refuse
    aiterator = acount = aexists = aget = afirst = alast = aaggregate = _refuse


def centre_scoped(
    where: str | Callable[[list[str]], models.Q],
    queryset_class: type[models.QuerySet] = models.QuerySet,
) -> models.Manager:
    """A manager whose rows belong to the centres in scope.

    `where` is the path to the row's centre ("centre", "learner__centre"), or, for rows
    that reach their centres another way, a function from centre numbers to a condition.
    The scope holds the centres, or a function that gives them when a query first needs
    them (a request that reads no learner data asks nothing of the database).
    """
    condition = (
        where if callable(where) else (lambda centres: models.Q(**{f"{where}__in": centres}))
    )

    class CentreScopedManager(models.Manager.from_queryset(queryset_class)):
        def get_queryset(self) -> models.QuerySet:
            current = get_scope()
            rows = super().get_queryset()
            if not current.get("_enabled", True):
                return rows
            if CENTRE not in current:
                return _OutsideAnyScope(self.model, using=self._db, missing_scopes={CENTRE})
            centres = current[CENTRE]
            if callable(centres):
                centres = centres()
            return rows if centres is None else rows.filter(condition(list(centres)))

    return CentreScopedManager()


@contextmanager
def outside_any_scope() -> Iterator[None]:
    """No scope at all, whatever the caller had: a Celery task run in-process from a request
    must not inherit the requester's centres, so it fails closed as it would on a worker."""
    token = state.set({})
    try:
        yield
    finally:
        state.reset(token)


def in_scope(content: Iterable[bytes], centres: Centres | Callable[[], Centres]) -> Iterator[bytes]:
    """A streamed body read in the request's scope: the server reads it after the middleware
    has returned."""
    with scope(**{CENTRE: centres}):
        yield from content
