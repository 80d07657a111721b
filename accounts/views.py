from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.db import IntegrityError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.encoding import force_str
from django.utils.http import urlsafe_base64_decode
from django.views.decorators.http import require_http_methods, require_POST

from base.confirm import ask, confirmed

from . import emails, oidc, registration, roles, throttle
from .forms import (
    ChangeRoleForm,
    ConfirmEmailForm,
    GrantRoleForm,
    RegistrationForm,
    RequestAccessForm,
    ResendConfirmationForm,
    SignInForm,
)
from .models import AccessRequest, AuditEvent, Membership, User
from .permissions import centre_for
from .throttle import posted_address, signed_in_account, throttled


@login_not_required
@throttled("register", posted_address)
def register(request: HttpRequest) -> HttpResponse:
    form = RegistrationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        registration.register(
            email=data["email"],
            password=data["password1"],
            first_name=data["first_name"],
            last_name=data["last_name"],
            organisation=data["organisation"],
        )
        return redirect("register_sent")
    return render(request, "accounts/register.html", {"form": form})


@login_not_required
def register_sent(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/register_sent.html")


@login_not_required
@throttled("resend-confirmation", posted_address)
def resend_confirmation(request: HttpRequest) -> HttpResponse:
    form = ResendConfirmationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        registration.resend_confirmation(form.cleaned_data["email"])
        return redirect("register_sent")
    return render(request, "accounts/resend_confirmation.html", {"form": form})


@login_not_required
@throttled("confirm-email")
def confirm_email(request: HttpRequest, uidb64: str, token: str) -> HttpResponse:
    """A page that asks for the registration's password: mail scanners follow links, and
    whoever registered someone else's address does not get in when its owner clicks."""
    try:
        user = User.objects.get(pk=int(force_str(urlsafe_base64_decode(uidb64))))
    except (ValueError, TypeError, OverflowError, User.DoesNotExist):
        user = None
    if (
        user is None
        or not user.awaiting_confirmation
        or not emails.confirmation_tokens.check_token(user, token)
    ):
        return render(request, "accounts/confirm_failed.html", status=400)
    form = ConfirmEmailForm(request.POST if request.method == "POST" else None)
    # Per account, only wrong passwords on a real link count: a stranger posting to someone's
    # link with a made-up token cannot lock them out of confirming.
    wait = throttle.waiting_time(request, "confirm-email", str(user.pk))
    if request.method == "POST" and wait:
        return throttle.too_many(request, wait)
    if request.method == "POST" and form.is_valid():
        try:
            registration.confirm(user, form.cleaned_data["password"])
        except registration.WrongPassword:
            throttle.count_failure(request, "confirm-email", str(user.pk))
            form.add_error(
                "password",
                "That is not the password this registration was made with. If you did not "
                "register, or have forgotten it, choose a new password below.",
            )
        else:
            messages.success(request, "Your email address is confirmed. You can now sign in.")
            return redirect("login")
    status = 400 if form.errors else 200
    return render(
        request, "accounts/confirm_email.html", {"confirming": user, "form": form}, status=status
    )


@throttled("request-access", signed_in_account)
def request_access(request: HttpRequest) -> HttpResponse:
    form = RequestAccessForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        number = form.cleaned_data["centre"]
        try:
            roles.request_access(request.user, number, form.cleaned_data["role"])
        except IntegrityError:  # a double submit: the first request stands
            return redirect("home")
        # The same words whether or not a centre has the number.
        messages.success(
            request,
            f"Your request has gone to centre {number}. If the centre uses Learner Tracking, "
            "its administrators will decide and we will email you.",
        )
        return redirect("home")
    return render(request, "accounts/request_access.html", {"form": form})


def manage_users(request: HttpRequest, number: str) -> HttpResponse:
    centre = centre_for(request.user, number, administer=True)
    return _manage_users_page(request, centre, GrantRoleForm(centre=centre))


def _manage_users_page(request, centre, grant_form, status=200) -> HttpResponse:
    members = (
        Membership.objects.filter(centre=centre)
        .select_related("user")
        .order_by("user__last_name", "user__first_name", "user__username")
    )
    pending = (
        AccessRequest.objects.filter(centre=centre, status=AccessRequest.Status.PENDING)
        .select_related("user")
        .order_by("created_at")
    )
    events = AuditEvent.objects.filter(centre=centre).exclude(
        action__in=[AuditEvent.Action.SIGN_IN, AuditEvent.Action.SIGN_IN_FAILED]
    )[:50]
    return render(
        request,
        "accounts/manage_users.html",
        {
            "centre": centre,
            "members": members,
            "pending": pending,
            "events": events,
            "grant_form": grant_form,
            "role_choices": Membership.Role.choices,
        },
        status=status,
    )


@require_POST
def grant_role(request: HttpRequest, number: str) -> HttpResponse:
    centre = centre_for(request.user, number, administer=True)
    form = GrantRoleForm(request.POST, centre=centre)
    if not form.is_valid():
        return _manage_users_page(request, centre, form, status=400)
    user = form.cleaned_data["email"]
    try:
        roles.grant(request.user, centre, user, form.cleaned_data["role"])
    except IntegrityError:  # granted a moment ago, by this click or another administrator
        messages.info(request, "They already have a role on this centre.")
        return redirect("manage_users", number=centre.number)
    messages.success(
        request, f"{user.get_full_name() or user.email} is now a {form.cleaned_data['role']}."
    )
    return redirect("manage_users", number=centre.number)


def _person(user: User) -> str:
    return user.get_full_name() or user.email or user.get_username()


def _membership_or_gone(request, centre, membership_id: int) -> Membership | None:
    """The membership; None, with a plain notice, when it was removed a moment ago (a double
    click, or another administrator)."""
    membership = Membership.objects.filter(pk=membership_id, centre=centre).first()
    if membership is None:
        if Membership.objects.filter(pk=membership_id).exists():
            raise Http404("No such role at this centre")  # another centre's: not ours to say
        messages.info(request, "That role has already been removed.")
    return membership


@require_POST
def change_role(request: HttpRequest, number: str, membership_id: int) -> HttpResponse:
    centre = centre_for(request.user, number, administer=True)
    membership = _membership_or_gone(request, centre, membership_id)
    form = ChangeRoleForm(request.POST)
    if membership is None:
        pass
    elif not form.is_valid():
        messages.error(request, "Choose viewer or administrator.")
    else:
        try:
            roles.change_role(request.user, membership, form.cleaned_data["role"])
            if (
                membership.user_id == request.user.pk
                and form.cleaned_data["role"] == Membership.Role.VIEWER
            ):
                messages.success(
                    request,
                    f"You are now a viewer of {centre.number} {centre.name}: you can see its "
                    "learners, and its administrators manage its users.",
                )
                return redirect("home")
            messages.success(
                request, f"{_person(membership.user)} is now a {form.cleaned_data['role']}."
            )
        except roles.AlreadyDone as done:
            messages.info(request, str(done))
        except roles.RoleRuleBroken as broken:
            messages.error(request, str(broken))
    return redirect("manage_users", number=centre.number)


@require_http_methods(["GET", "POST"])
def revoke_role(request: HttpRequest, number: str, membership_id: int) -> HttpResponse:
    centre = centre_for(request.user, number, administer=True)
    membership = _membership_or_gone(request, centre, membership_id)
    if membership is None:
        return redirect("manage_users", number=centre.number)
    who = _person(membership.user)
    yourself = membership.user_id == request.user.pk
    if not confirmed(request):
        return ask(
            request,
            question=(
                f"Remove your own role at {centre.number} {centre.name}?"
                if yourself
                else f"Remove {who}'s role at {centre.number} {centre.name}?"
            ),
            details=[
                f"{'You' if yourself else who} will no longer see this centre's learners"
                f"{', and you will not be able to undo this' if yourself else ''}."
            ],
            action="Yes, remove the role",
            cancel_url=reverse("manage_users", args=[centre.number]),
        )
    try:
        roles.revoke(request.user, membership)
        messages.success(
            request,
            f"You no longer have a role at {centre.number} {centre.name}."
            if yourself
            else f"{who} no longer has a role at {centre.number} {centre.name}.",
        )
    except roles.AlreadyDone as done:
        messages.info(request, str(done))
    except roles.RoleRuleBroken as broken:
        messages.error(request, str(broken))
    if (
        membership.user_id == request.user.pk
        and not Membership.objects.filter(pk=membership.pk).exists()
    ):
        return redirect("home")
    return redirect("manage_users", number=centre.number)


@require_POST
def decide_request(
    request: HttpRequest, number: str, request_id: int, decision: str
) -> HttpResponse:
    centre = centre_for(request.user, number, administer=True)
    access_request = get_object_or_404(AccessRequest, pk=request_id, centre=centre)
    try:
        roles.decide(request.user, access_request, approve=decision == "approve")
        messages.success(
            request, f"The request was {'approved' if decision == 'approve' else 'declined'}."
        )
    except roles.RoleRuleBroken as broken:
        messages.error(request, str(broken))
    return redirect("manage_users", number=centre.number)


@method_decorator(throttled("password-reset", posted_address), name="dispatch")
class PasswordResetView(auth_views.PasswordResetView):
    """Links from our own address (SITE_URL), never from the request's Host header."""

    def form_valid(self, form):
        self.extra_email_context = {"site_url": settings.SITE_URL.rstrip("/")}
        return super().form_valid(form)


@method_decorator(throttled("change-password", signed_in_account), name="dispatch")
class PasswordChangeView(auth_views.PasswordChangeView):
    pass


class SignInView(auth_views.LoginView):
    """Django's sign-in page, offering the awarding body's sign-in when it is set up
    (failed attempts are limited per address by accounts.throttle.FailedSignInLimit)."""

    authentication_form = SignInForm

    def get_context_data(self, **kwargs):
        return {
            **super().get_context_data(**kwargs),
            "awarding_body_sign_in": settings.OIDC_ENABLED,
        }


class SignOutView(auth_views.LogoutView):
    """Signs out here and, for someone who came through the awarding body, there too."""

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        id_token = request.session.get("oidc_id_token")
        response = super().post(request, *args, **kwargs)
        if id_token and settings.OIDC_ENABLED:
            elsewhere = oidc.provider_sign_out_url(request, id_token)
            if elsewhere:
                return redirect(elsewhere)
        return response
