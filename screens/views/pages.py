import redis
from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import never_cache

from flags.snapshot import newest_snapshot
from screens.cohort import is_stale


@login_not_required
@never_cache
def health(request: HttpRequest) -> JsonResponse:
    """For load balancers and compose: the database, the broker, and the snapshot's age.

    Unhealthy (503) when the database or a configured broker does not answer. An old
    snapshot, or one whose rows a crash took, is reported, not fatal: the pages still work
    and say how old their data is, or that it is not built yet.
    """
    report = {"database": _database(), "broker": _broker(), "snapshot": _snapshot()}
    healthy = report["database"] == "ok" and report["broker"] in ("ok", "not configured")
    report["status"] = "ok" if healthy else "unavailable"
    return JsonResponse(report, status=200 if healthy else 503)


def _database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:  # noqa: BLE001 - any failure means unhealthy
        return "unavailable"
    return "ok"


def _broker() -> str:
    if not settings.REDIS_URL:
        return "not configured"
    try:
        client = redis.Redis.from_url(
            settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1
        )
        client.ping()
    except Exception:  # noqa: BLE001
        return "unavailable"
    return "ok"


def _snapshot() -> dict:
    try:
        run, lost = newest_snapshot()
    except Exception:  # noqa: BLE001 - the database check reports it
        return {"state": "unknown"}
    if run is None:
        return {"state": "never built"}
    age = timezone.now() - run.finished_at
    return {
        # Lost: PostgreSQL emptied its unlogged tables (a crash); a rebuild is queued.
        "state": "lost" if lost else "stale" if is_stale(run) else "ok",
        "built_at": run.started_at.isoformat(),
        "age_hours": round(age.total_seconds() / 3600, 1),
    }


@login_not_required
def contact(request: HttpRequest) -> HttpResponse:
    return render(request, "contact.html")
