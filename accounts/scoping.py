"""The request's scope: entered once, from the user's centres, for everything the request does."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django_scopes import scope

from base.scoping import CENTRE, in_scope

from .permissions import visible_centre_numbers


class CentreScope:
    """Learner data for the centres the user may see: every centre for staff who read every
    centre (the admin's learner data asks for that permission, `LearnerDataAdmin`), none
    when signed out. The admin needs no exemption: whoever may open its learner pages reads
    every centre."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:

        # Read when a query first needs them; roles() keeps them for the rest of the request.
        def centres() -> list[str] | None:
            return visible_centre_numbers(request.user)

        with scope(**{CENTRE: centres}):
            response = self.get_response(request)
        if response.streaming:
            response.streaming_content = in_scope(response.streaming_content, centres)
        return response
