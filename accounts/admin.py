"""The admin site for awarding-body staff: users, centres and the roles that join them.

Roles changed here follow the rules of Manage Users (DOMAIN.md section 2): every grant,
change and revocation is recorded as an audit event with staff as the actor, and a centre's
last centre-user administrator can be neither removed nor demoted. Access requests and the
audit trail are shown read-only: requests are decided by the centre's administrators.
"""

from collections.abc import Iterable
from urllib.parse import urlencode

from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin as DjangoGroupAdmin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import UserChangeForm
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.forms import BaseInlineFormSet, ModelForm
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from . import audit, roles
from .models import (
    AccessRequest,
    AuditEvent,
    CalendarLink,
    Centre,
    Membership,
    User,
    WeeklyDigest,
)
from .permissions import reads_every_centre

LAST_ADMINISTRATOR = (
    "Centre {centres} would be left without a centre-user administrator. Make another "
    "centre user an administrator of it first."
)


def _subject(user: User) -> str:
    return user.email or user.get_username()


def _refuse_roles_of_staff(request: HttpRequest, memberships: Iterable[Membership]) -> None:
    """A role is what reads a centre: only a superuser gives one to a staff account (one's
    own included), changes or removes it, so that staff cannot read a centre unaudited."""
    if request.user.is_superuser:
        return
    if any(membership.user.is_staff for membership in memberships):
        raise PermissionDenied("Only a superuser changes the roles of staff accounts.")


def _refuse_if_broken(replaced: Iterable[int], after: Iterable[roles.State]) -> None:
    broken = roles.centres_left_without_administrator(replaced, after)
    if broken:
        raise ValidationError(LAST_ADMINISTRATOR.format(centres=", ".join(broken)))


class MembershipFormSet(BaseInlineFormSet):
    """Memberships inline: a row keeps its user and centre, and the rule above holds."""

    def clean(self) -> None:
        super().clean()
        replaced: list[int] = []
        after: list[roles.State] = []
        for form in self.forms:
            if not hasattr(form, "cleaned_data") or not form.cleaned_data:
                continue
            instance = form.instance
            deleting = self._should_delete_form(form)
            if instance.pk is not None:
                if not deleting and {"user", "centre"} & set(form.changed_data):
                    raise ValidationError(
                        "A role cannot be moved to another user or centre: remove it and "
                        "grant a new one."
                    )
                if deleting or form.has_changed():
                    replaced.append(instance.pk)
            if not deleting:
                centre = form.cleaned_data.get("centre") or getattr(instance, "centre", None)
                user = form.cleaned_data.get("user") or getattr(instance, "user", None)
                after.append(
                    (
                        getattr(centre, "pk", None),
                        form.cleaned_data.get("role"),
                        bool(form.cleaned_data.get("is_centre_user")),
                        bool(getattr(user, "is_active", True)),
                    )
                )
        _refuse_if_broken(replaced, after)


class AuditedMembershipsMixin:
    """Saves membership inlines through accounts.roles, which audits each grant, change and
    revocation and holds the last-administrator rule: grants first, removals last, so that a
    centre handed from one centre user to another in one save keeps an administrator."""

    def save_formset(self, request: HttpRequest, form, formset, change: bool) -> None:
        if formset.model is not Membership:
            super().save_formset(request, form, formset, change)
            return
        formset.save(commit=False)
        _refuse_roles_of_staff(
            request,
            [
                *formset.new_objects,
                *(m for m, _fields in formset.changed_objects),
                *formset.deleted_objects,
            ],
        )
        try:
            for membership in formset.new_objects:
                roles.grant(
                    request.user,
                    membership.centre,
                    membership.user,
                    membership.role,
                    is_centre_user=membership.is_centre_user,
                )
            for membership, _fields in formset.changed_objects:
                roles.change_role(
                    request.user,
                    membership,
                    membership.role,
                    is_centre_user=membership.is_centre_user,
                )
            for membership in formset.deleted_objects:
                roles.revoke(request.user, membership)
        except roles.RoleRuleBroken as broken:
            # Someone changed the roles since the form was checked: nothing of it is saved.
            raise ValidationError(str(broken)) from broken


class MembershipInline(admin.TabularInline):
    model = Membership
    formset = MembershipFormSet
    extra = 0
    fields = ("centre", "role", "is_centre_user", "granted_at")
    readonly_fields = ("granted_at",)
    autocomplete_fields = ("centre",)
    show_change_link = True

    def get_queryset(self, request: HttpRequest) -> QuerySet[Membership]:
        return super().get_queryset(request).select_related("centre", "user")


class CentreMembershipInline(MembershipInline):
    fields = ("user", "role", "is_centre_user", "granted_at")
    autocomplete_fields = ("user",)
    verbose_name_plural = "users with a role on this centre"


# What only superusers may change: who is staff, who is superuser, and what staff may do.
SUPERUSER_ONLY = ("is_staff", "is_superuser", "groups", "user_permissions")
# Never written to the audit trail, whatever changes.
NOT_AUDITED = {"password"}


def _described(user: User, field: str):
    """A field's value for the audit trail: plain data, names rather than ids."""
    if field in ("groups", "user_permissions"):
        if user.pk is None:
            return []
        related = getattr(user, field).all()
        return sorted(str(item) for item in related)
    value = getattr(user, field)
    return value.isoformat() if hasattr(value, "isoformat") else value


class StaffUserChangeForm(UserChangeForm):
    def clean(self) -> dict:
        cleaned = super().clean()
        if self.instance.is_active and cleaned.get("is_active") is False:
            left = roles.centres_only_they_administer(self.instance)
            if left:
                raise ValidationError(LAST_ADMINISTRATOR.format(centres=", ".join(left)))
        return cleaned


@admin.register(User)
class UserAdmin(AuditedMembershipsMixin, DjangoUserAdmin):
    """Accounts. Staff who are not superusers change ordinary accounts only, and never who is
    staff or what staff may do; every change is audited."""

    form = StaffUserChangeForm
    fieldsets = (
        *DjangoUserAdmin.fieldsets,
        (
            "Organisation, invitation and notifications",
            {"fields": ("organisation", "invited_at", "weekly_digest")},
        ),
    )
    add_fieldsets = (
        *DjangoUserAdmin.add_fieldsets,
        (
            "Who they are",
            {"fields": ("email", "first_name", "last_name", "organisation")},
        ),
    )
    readonly_fields = ("invited_at", "last_login", "date_joined")
    list_display = (
        "username",
        "email",
        "first_name",
        "last_name",
        "organisation",
        "is_active",
        "is_staff",
        "last_login",
    )
    search_fields = ("username", "email", "first_name", "last_name", "organisation")
    inlines = (MembershipInline,)

    def get_readonly_fields(self, request: HttpRequest, obj: User | None = None) -> tuple:
        fields = tuple(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            fields += SUPERUSER_ONLY
        return fields

    def _outranks(self, request: HttpRequest, obj: User | None) -> bool:
        """Another staff account, which only a superuser may change, delete or set the
        password of (else staff could take over a superuser by its password or address)."""
        return (
            obj is not None
            and not request.user.is_superuser
            and obj.pk != request.user.pk
            and (obj.is_staff or obj.is_superuser)
        )

    def has_change_permission(self, request: HttpRequest, obj: User | None = None) -> bool:
        return not self._outranks(request, obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: User | None = None) -> bool:
        if self._outranks(request, obj):
            return False
        if obj is not None and roles.centres_only_they_administer(obj):
            return False
        return super().has_delete_permission(request, obj)

    def get_actions(self, request: HttpRequest) -> dict:
        # One at a time, so that the last-administrator rule is checked and audited.
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def save_model(self, request: HttpRequest, obj: User, form, change: bool) -> None:
        fields = sorted(set(form.changed_data) - NOT_AUDITED)
        stored = User.objects.get(pk=obj.pk) if change else None
        before = {field: _described(stored, field) for field in fields} if stored else None
        super().save_model(request, obj, form, change)
        after = {field: _described(obj, field) for field in fields if field not in SUPERUSER_ONLY}
        # Groups and permissions are saved after the account: their new values are the form's.
        for field in set(fields) & {"groups", "user_permissions"}:
            after[field] = sorted(str(item) for item in form.cleaned_data[field])
        for field in set(fields) & {"is_staff", "is_superuser"}:
            after[field] = getattr(obj, field)
        audit.record(
            request.user,
            AuditEvent.Action.ACCOUNT_CHANGED if change else AuditEvent.Action.ACCOUNT_ADDED,
            subject=_subject(obj),
            before=before,
            after=after,
        )

    def delete_model(self, request: HttpRequest, obj: User) -> None:
        with transaction.atomic():
            audit.record(
                request.user,
                AuditEvent.Action.ACCOUNT_DELETED,
                subject=_subject(obj),
                before={"username": obj.get_username(), "is_staff": obj.is_staff},
            )
            super().delete_model(request, obj)

    def user_change_password(self, request: HttpRequest, id: str, form_url: str = ""):
        with transaction.atomic():
            response = super().user_change_password(request, id, form_url)
            if request.method == "POST" and response.status_code == 302:
                target = User.objects.get(pk=id)
                audit.record(
                    request.user, AuditEvent.Action.PASSWORD_SET_BY_STAFF, subject=_subject(target)
                )
        return response


admin.site.unregister(Group)


@admin.register(Group)
class GroupAdmin(DjangoGroupAdmin):
    """Groups carry permissions (reading every centre among them): only superusers change
    them, and every change is audited."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser

    def has_change_permission(self, request: HttpRequest, obj: Group | None = None) -> bool:
        return request.user.is_superuser

    def has_delete_permission(self, request: HttpRequest, obj: Group | None = None) -> bool:
        return request.user.is_superuser

    def save_model(self, request: HttpRequest, obj: Group, form, change: bool) -> None:
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            audit.record(
                request.user,
                AuditEvent.Action.GROUP_CHANGED,
                subject=f"group {obj.name}",
                after={"permissions": sorted(str(p) for p in form.cleaned_data["permissions"])},
            )

    def delete_model(self, request: HttpRequest, obj: Group) -> None:
        with transaction.atomic():
            audit.record(
                request.user,
                AuditEvent.Action.GROUP_CHANGED,
                subject=f"group {obj.name}",
                before={"deleted": True},
            )
            super().delete_model(request, obj)


@admin.register(Centre)
class CentreAdmin(AuditedMembershipsMixin, admin.ModelAdmin):
    list_display = ("number", "name", "records")
    search_fields = ("number", "name")
    search_help_text = "Centre number or part of the name."
    inlines = (CentreMembershipInline,)

    def get_readonly_fields(self, request: HttpRequest, obj: Centre | None = None) -> tuple:
        # The number is the primary key: changing it would make a second centre.
        return ("number",) if obj is not None else ()

    @admin.display(description="learner records")
    def records(self, obj: Centre) -> str:
        query = urlencode({"centre": obj.number})
        return format_html(
            '<a href="{}?{}">learners</a> · <a href="{}?{}">entries</a>',
            reverse("admin:learners_learner_changelist"),
            query,
            reverse("admin:learners_entry_changelist"),
            query,
        )


class MembershipForm(ModelForm):
    class Meta:
        model = Membership
        fields = ("user", "centre", "role", "is_centre_user")

    def clean(self) -> dict:
        cleaned = super().clean()
        centre = cleaned.get("centre") or getattr(self.instance, "centre", None)
        user = cleaned.get("user") or getattr(self.instance, "user", None)
        after = [
            (
                getattr(centre, "pk", None),
                cleaned.get("role"),
                bool(cleaned.get("is_centre_user")),
                bool(getattr(user, "is_active", True)),
            )
        ]
        _refuse_if_broken([self.instance.pk], after)
        return cleaned


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    form = MembershipForm
    list_display = ("user", "centre", "role", "is_centre_user", "granted_at")
    list_filter = ("role", "is_centre_user")
    list_select_related = ("user", "centre")
    search_fields = ("user__username", "user__email", "=centre__number")
    search_help_text = "Username, email address or centre number."
    autocomplete_fields = ("user", "centre")
    # Roles are revoked one at a time, so that the last-administrator rule is checked.
    actions = None

    def get_readonly_fields(self, request: HttpRequest, obj: Membership | None = None) -> tuple:
        # Moving a role to another user or centre would be a revocation and a grant.
        return ("user", "centre", "granted_at") if obj is not None else ("granted_at",)

    def has_delete_permission(self, request: HttpRequest, obj: Membership | None = None) -> bool:
        if obj is not None and roles.centres_left_without_administrator([obj.pk], []):
            return False
        return super().has_delete_permission(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Membership | None = None) -> bool:
        if obj is not None and obj.user.is_staff and not request.user.is_superuser:
            return False
        return super().has_change_permission(request, obj)

    def save_model(self, request: HttpRequest, obj: Membership, form, change: bool) -> None:
        # Through accounts.roles, as Manage Users: the rule, the locks and the audit event.
        _refuse_roles_of_staff(request, [obj])
        if change:
            roles.change_role(request.user, obj, obj.role, is_centre_user=obj.is_centre_user)
        else:
            saved = roles.grant(
                request.user, obj.centre, obj.user, obj.role, is_centre_user=obj.is_centre_user
            )
            obj.pk = saved.pk

    def delete_model(self, request: HttpRequest, obj: Membership) -> None:
        _refuse_roles_of_staff(request, [obj])
        roles.revoke(request.user, obj)


class ReadOnly:
    """Staff look here; changes are made elsewhere (or never). For admins and inlines."""

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class ReadOnlyAdmin(ReadOnly, admin.ModelAdmin):
    pass


class LearnerDataAdmin(ReadOnlyAdmin):
    """Learners' records: read, in the admin as on the pages, only by staff who may read
    every centre (accounts.read_every_centre); being staff with a view permission is not
    enough."""

    def has_view_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return reads_every_centre(request.user) and super().has_view_permission(request, obj)


@admin.register(AccessRequest)
class AccessRequestAdmin(ReadOnlyAdmin):
    """Decided by the centre's administrators on Manage Users, which audits and emails."""

    # The number, not the centre: a request to a number no centre has is kept too.
    list_display = ("user", "centre_id", "role", "status", "created_at", "decided_by", "decided_at")
    list_filter = ("status", "role")
    list_select_related = ("user", "decided_by")
    search_fields = ("user__username", "user__email", "=centre__number")
    search_help_text = "Username, email address or centre number."


@admin.register(AuditEvent)
class AuditEventAdmin(LearnerDataAdmin):
    """Events name learners (ULN, name): learner data."""

    list_display = ("at", "actor_name", "action", "centre_id", "learner_uln", "subject")
    list_filter = ("action",)
    search_fields = ("actor_name", "subject", "=learner_uln", "=centre__number")
    search_help_text = "Who acted, whom it was about, a learner's ULN or a centre number."
    show_full_result_count = False


@admin.register(CalendarLink)
class CalendarLinkAdmin(ReadOnlyAdmin):
    """Who has a calendar link, and when their calendar last read it; never the token."""

    list_display = ("user", "created_at", "last_read_at")
    fields = ("user", "created_at", "last_read_at")
    readonly_fields = fields
    list_select_related = ("user",)
    search_fields = ("user__username", "user__email")


@admin.register(WeeklyDigest)
class WeeklyDigestAdmin(ReadOnlyAdmin):
    """Who was sent the weekly digest, which week and when; a week with nothing to say for
    them shows as not emailed."""

    list_display = ("user", "week", "sent_at", "emailed")
    list_filter = ("emailed", "week")
    fields = list_display
    readonly_fields = fields
    list_select_related = ("user",)
    search_fields = ("user__username", "user__email")
    date_hierarchy = "week"
