from django.http import HttpRequest

from . import chat


def inbox(request: HttpRequest) -> dict:
    """The support team's waiting count for the header. Asked only of staff: for everyone
    else the page costs no query (their permissions are not even read)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not user.is_staff:
        return {}
    if not chat.can_answer(user):
        return {}
    return {"inbox_waiting": chat.waiting_count()}
