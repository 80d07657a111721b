"""The page shown when a request fails unexpectedly.

A database that does not answer (stopped, restarting, failing over) is an outage, not a
bug: the user is told the service is briefly unavailable and to try again (503 with
Retry-After), which load balancers and browsers understand. Anything else is a 500. Both
pages are rendered without a request context, because the context processors would ask
the database that just failed.
"""

import contextlib
import sys

from django.db import Error, InterfaceError, OperationalError, connection
from django.http import HttpRequest, HttpResponse
from django.template import loader

RETRY_AFTER_SECONDS = 60


def server_error(request: HttpRequest) -> HttpResponse:
    error = sys.exc_info()[1]
    if isinstance(error, InterfaceError):
        # The request's connection is closed for good: ask on a fresh one.
        with contextlib.suppress(Error):
            connection.close()
    if isinstance(error, OperationalError | InterfaceError) and not _database_answers():
        response = HttpResponse(loader.get_template("503.html").render(), status=503)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    return HttpResponse(loader.get_template("500.html").render(), status=500)


def _database_answers() -> bool:
    """Whether the database still answers: an OperationalError is also a mistyped query or a
    missing table (SQLite), which are faults of ours, not outages. A connection closed under
    the request raises InterfaceError, which is not a DatabaseError: any database error here
    means it does not answer."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Error:
        return False
    return True
