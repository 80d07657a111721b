from django.urls import path

from . import views

urlpatterns = [
    path("support/", views.start, name="support_start"),
    path("support/inbox/", views.inbox, name="support_inbox"),
    path(
        "support/conversations/<int:conversation_id>/",
        views.conversation,
        name="support_conversation",
    ),
    path(
        "support/conversations/<int:conversation_id>/messages/",
        views.new_messages,
        name="support_messages",
    ),
    path("support/conversations/<int:conversation_id>/reply/", views.reply, name="support_reply"),
    path("support/conversations/<int:conversation_id>/claim/", views.claim, name="support_claim"),
    path("support/conversations/<int:conversation_id>/close/", views.close, name="support_close"),
    path(
        "support/conversations/<int:conversation_id>/transcript/",
        views.transcript,
        name="support_transcript",
    ),
]
