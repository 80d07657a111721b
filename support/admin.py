"""The live chat in the admin, read-only: the support team answers at /support/inbox/."""

from django.contrib import admin

from accounts.admin import ReadOnlyAdmin

from .models import Conversation, Message


@admin.register(Conversation)
class ConversationAdmin(ReadOnlyAdmin):
    list_display = ("subject", "user", "status", "claimed_by", "created_at", "closed_at")
    list_filter = ("status",)
    list_select_related = ("user", "claimed_by")
    search_fields = ("subject", "user__username", "user__email")


@admin.register(Message)
class MessageAdmin(ReadOnlyAdmin):
    list_display = ("conversation", "author", "from_support", "created_at")
    list_select_related = ("conversation", "author")
