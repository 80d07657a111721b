"""Notifications: each person's choice of the weekly digest, and what it would say now."""

from csp.constants import NONCE
from csp.decorators import csp_update
from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from accounts.models import Membership
from accounts.permissions import roles
from screens import digest

ON, OFF = "on", "off"


class DigestChoiceForm(forms.Form):
    weekly_digest = forms.ChoiceField(
        label="Weekly digest by email",
        choices=[(ON, "Send me the weekly digest"), (OFF, "Do not send me the weekly digest")],
        widget=forms.RadioSelect,
        error_messages={"required": "Choose whether to receive the weekly digest."},
    )


def _by_default(user) -> bool:
    return Membership.Role.ADMINISTRATOR in roles(user).values()


def _receives(user) -> bool:
    return user.weekly_digest if user.weekly_digest is not None else _by_default(user)


@require_http_methods(["GET", "POST"])
def notifications(request: HttpRequest) -> HttpResponse:
    user = request.user
    receives = _receives(user)
    form = DigestChoiceForm(
        request.POST or None, initial={"weekly_digest": ON if receives else OFF}
    )
    if request.method == "POST" and form.is_valid():
        wanted = form.cleaned_data["weekly_digest"] == ON
        # The default kept as the default: an administrator who later becomes a viewer
        # stops receiving it, as any viewer who never asked.
        user.weekly_digest = None if wanted == _by_default(user) else wanted
        user.save(update_fields=["weekly_digest"])
        messages.success(
            request,
            "You will receive the weekly digest each Monday morning."
            if wanted
            else "You will not receive the weekly digest.",
        )
        return redirect("notifications")
    context = {
        "form": form,
        "receives": receives,
        "chosen": user.weekly_digest is not None,
        "has_email": bool(user.email),
    }
    return render(request, "learners/notifications.html", context)


@require_GET
@csp_update({"style-src": [NONCE]})
def digest_preview(request: HttpRequest) -> HttpResponse:
    """The person's digest as it would be sent now: the email's own HTML."""
    week, centres = digest.preview(request.user, timezone.now())
    html = render_to_string(
        "emails/digest.html",
        {**digest.context(request.user, week, centres), "csp_nonce": str(request.csp_nonce)},
    )
    return HttpResponse(html)
