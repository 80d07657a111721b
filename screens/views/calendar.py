"""The calendar link: made and stopped by its owner; read by their calendar program."""

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from accounts import calendar as links
from accounts.models import CalendarLink
from accounts.throttle import address_key, over, rates, too_many
from flags.clock import today
from screens.calendar import deadlines


@require_http_methods(["GET", "POST"])
def calendar_link(request: HttpRequest) -> HttpResponse:
    made = ""
    if request.method == "POST":
        if request.POST.get("action") == "stop":
            if links.stop_link(request.user):
                messages.success(request, "Your calendar link has stopped working.")
            return redirect("calendar_link")
        token = links.make_link(request.user)
        made = request.build_absolute_uri(reverse("calendar_feed", args=[token]))
    link = CalendarLink.objects.filter(user=request.user).first()
    return render(request, "learners/calendar.html", {"link": link, "made": made})


@login_not_required
@require_GET
def calendar_feed(request: HttpRequest, token: str) -> HttpResponse:
    # Guessing tokens costs a wait, as guessing passwords does: an address that has guessed
    # wrong too often is not answered, even with a right one, until its wait is over.
    rate = rates("calendar")[0]
    wait = over(request, "calendar", "address", address_key(request), rate, count=False)
    if wait:
        return too_many(request, wait)
    owner = links.owner_of(token)
    if owner is None:
        over(request, "calendar", "address", address_key(request), rate)
        raise Http404("No such calendar")
    response = HttpResponse(deadlines(owner, today()), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="learner-tracking.ics"'
    response["Cache-Control"] = "no-store"
    return response
