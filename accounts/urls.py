from django.contrib.auth import views as auth_views
from django.urls import include, path, re_path

from . import views
from .forms import IncludingInvitedPasswordResetForm, SignInForm

urlpatterns = [
    path("", views.home, name="home"),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(authentication_form=SignInForm),
        name="login",
    ),
    path(
        "accounts/password_reset/",
        views.PasswordResetView.as_view(form_class=IncludingInvitedPasswordResetForm),
        name="password_reset",
    ),
    path("accounts/", include("django.contrib.auth.urls")),
    path("accounts/register/", views.register, name="register"),
    path("accounts/register/sent/", views.register_sent, name="register_sent"),
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
