from django.contrib.auth import views as auth_views
from django.urls import include, path, re_path

from . import oidc, views
from .forms import ConfirmingSetPasswordForm, IncludingInvitedPasswordResetForm

urlpatterns = [
    path("accounts/login/", views.SignInView.as_view(), name="login"),
    path("accounts/logout/", views.SignOutView.as_view(), name="logout"),
    # Signing in with the awarding body's account (404 unless OIDC_* settings are present).
    path("accounts/sso/", oidc.SignInStart.as_view(), name="oidc_authentication_init"),
    path(
        "accounts/sso/callback/",
        oidc.SignInCallback.as_view(),
        name="oidc_authentication_callback",
    ),
    path(
        "accounts/password_reset/",
        views.PasswordResetView.as_view(form_class=IncludingInvitedPasswordResetForm),
        name="password_reset",
    ),
    path(
        "accounts/reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(form_class=ConfirmingSetPasswordForm),
        name="password_reset_confirm",
    ),
    path("accounts/password_change/", views.PasswordChangeView.as_view(), name="password_change"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("accounts/register/", views.register, name="register"),
    path("accounts/register/sent/", views.register_sent, name="register_sent"),
    path("accounts/register/resend/", views.resend_confirmation, name="resend_confirmation"),
    path("accounts/confirm/<uidb64>/<token>/", views.confirm_email, name="confirm_email"),
    path("accounts/request-access/", views.request_access, name="request_access"),
    path("centres/<str:number>/users/", views.manage_users, name="manage_users"),
    path("centres/<str:number>/users/grant/", views.grant_role, name="grant_role"),
    path(
        "centres/<str:number>/users/<int:membership_id>/role/",
        views.change_role,
        name="change_role",
    ),
    path(
        "centres/<str:number>/users/<int:membership_id>/revoke/",
        views.revoke_role,
        name="revoke_role",
    ),
    re_path(
        r"^centres/(?P<number>[^/]+)/requests/(?P<request_id>[0-9]+)/(?P<decision>approve|decline)/$",
        views.decide_request,
        name="decide_request",
    ),
]
