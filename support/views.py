"""The live chat's pages. Logic lives in chat.py; these turn it into responses."""

from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.throttle import signed_in_account, throttle_post, throttled, too_many

from . import chat
from .forms import ReplyForm, StartConversationForm
from .hours import office_hours
from .models import Conversation


def _hours_context() -> dict:
    hours = office_hours()
    return {"office_hours": hours.describe(), "in_office_hours": hours.is_open()}


def _wants_json(request: HttpRequest) -> bool:
    # chat.js asks for JSON; a plain form post (no script) gets a page or a redirect.
    return "application/json" in request.headers.get("Accept", "")


@require_http_methods(["GET", "POST"])
@throttled("chat-conversation", signed_in_account)
def start(request: HttpRequest) -> HttpResponse:
    form = StartConversationForm(
        request.POST if request.method == "POST" else None,
        user=request.user,
        initial={"uln": request.GET.get("uln", "")},
    )
    if form.is_bound and form.is_valid():
        try:
            conversation = chat.open_conversation(
                request.user,
                form.cleaned_data["subject"],
                form.cleaned_data["body"],
                form.cleaned_data["uln"],
            )
        except chat.TooManyOpen:
            form.add_error(
                None,
                f"You already have {settings.CHAT_OPEN_CONVERSATIONS} conversations open: "
                "carry on in one of them, or close one you no longer need.",
            )
        else:
            return redirect("support_conversation", conversation_id=conversation.pk)
    return render(
        request,
        "support/start.html",
        {
            "form": form,
            "conversations": chat.own_conversations(request.user),
            "can_answer": chat.can_answer(request.user),
            **_hours_context(),
        },
        status=400 if form.is_bound else 200,
    )


def _render_conversation(
    request: HttpRequest,
    conversation: Conversation,
    form: ReplyForm | None = None,
    status: int = 200,
) -> HttpResponse:
    shown, earlier = chat.latest_messages(conversation, request.user)
    return render(
        request,
        "support/conversation.html",
        {
            "conversation": conversation,
            "chat_messages": shown,
            "earlier_messages": earlier,
            "last_id": shown[-1]["id"] if shown else 0,
            "mention": chat.learner_mention(conversation),
            "form": form or ReplyForm(),
            "is_owner": conversation.user_id == request.user.pk,
            "can_answer": chat.can_answer(request.user),
            "retention_days": settings.CHAT_RETENTION_DAYS,
            **_hours_context(),
        },
        status=status,
    )


@require_GET
def conversation(request: HttpRequest, conversation_id: int) -> HttpResponse:
    return _render_conversation(request, chat.conversation_for(request.user, conversation_id))


@require_POST
def reply(request: HttpRequest, conversation_id: int) -> HttpResponse:
    conversation = chat.conversation_for(request.user, conversation_id)
    # The support team answers without a limit; everyone else has one an hour.
    wait = (
        None
        if chat.can_answer(request.user)
        else throttle_post(request, "chat-message", signed_in_account)
    )
    if wait:
        if _wants_json(request):
            response = JsonResponse(
                {"errors": {"__all__": [{"message": "Too many messages: wait a few minutes."}]}},
                status=429,
            )
            response["Retry-After"] = str(wait)
            return response
        return too_many(request, wait)
    form = ReplyForm(request.POST)
    if form.is_valid():
        try:
            chat.post_message(conversation, request.user, form.cleaned_data["body"])
        except chat.ConversationClosed:
            form.add_error(None, "This conversation has been closed: start a new one.")
    if not form.is_valid():
        if _wants_json(request):
            return JsonResponse({"errors": form.errors.get_json_data()}, status=400)
        return _render_conversation(request, conversation, form, status=400)
    if _wants_json(request):
        # The script sends the last id it shows, so it gets its own message and any it missed.
        return _json(chat.poll(conversation, request.user, _after(request.POST)))
    return redirect(reverse("support_conversation", args=[conversation.pk]) + "#reply")


def _after(data) -> int:
    try:
        return max(int(data.get("after", 0)), 0)
    except (TypeError, ValueError):
        return 0


@require_GET
@never_cache
def new_messages(request: HttpRequest, conversation_id: int) -> JsonResponse:
    conversation = chat.conversation_for(request.user, conversation_id)
    return _json(chat.poll(conversation, request.user, _after(request.GET)))


def _json(data: dict) -> JsonResponse:
    # Text as UTF-8, not \u escapes (six bytes a character).
    return JsonResponse(data, json_dumps_params={"ensure_ascii": False})


@require_POST
def claim(request: HttpRequest, conversation_id: int) -> HttpResponse:
    conversation = chat.conversation_for(request.user, conversation_id)
    if chat.claim(conversation, request.user):
        messages.success(request, "You have claimed this conversation.")
    else:
        messages.info(request, "This conversation was already claimed or closed.")
    return redirect("support_conversation", conversation_id=conversation.pk)


@require_POST
def close(request: HttpRequest, conversation_id: int) -> HttpResponse:
    conversation = chat.conversation_for(request.user, conversation_id)
    if chat.close(conversation, request.user):
        messages.success(request, "The conversation is closed.")
    return redirect("support_conversation", conversation_id=conversation.pk)


@require_POST
@throttled("chat-transcript", signed_in_account)
def transcript(request: HttpRequest, conversation_id: int) -> HttpResponse:
    conversation = chat.conversation_for(request.user, conversation_id)
    try:
        address = chat.send_transcript(conversation, request.user)
    except chat.NotClosedYet:
        messages.error(request, "The transcript can be sent once the conversation is closed.")
    except chat.NoEmailAddress:
        messages.error(request, "Your account has no email address to send the transcript to.")
    else:
        messages.success(request, f"The transcript was sent to {address}.")
    return redirect("support_conversation", conversation_id=conversation.pk)


@require_GET
def inbox(request: HttpRequest) -> HttpResponse:
    found = chat.inbox(
        request.user, pages={name: request.GET.get(f"{name}_page") for name in PAGED_LISTS}
    )
    sections = [
        {
            "id": "open",
            "title": "Open: not claimed yet",
            "list": found.open,
            "when": "Waiting since",
            "empty": "Nobody is waiting for a support officer.",
        },
        {
            "id": "waiting",
            "title": "Waiting: claimed, the user wrote last",
            "list": found.waiting,
            "when": "Waiting since",
            "empty": "No user is waiting for an answer.",
        },
        {
            "id": "answered",
            "title": "Answered: waiting for the user",
            "list": found.answered,
            "when": "User last wrote",
            "empty": "None.",
        },
        {
            "id": "closed",
            "title": "Closed",
            "list": found.closed,
            "when": "Closed",
            "empty": "None closed yet.",
        },
    ]
    for section in sections:
        pages = {name: request.GET.get(f"{name}_page", "") for name in PAGED_LISTS}
        page = section["list"].page
        for step, number in (
            ("previous", page.previous_page_number() if page.has_previous() else None),
            ("next", page.next_page_number() if page.has_next() else None),
        ):
            if number is not None:
                query = {**pages, f"{section['id']}_page": str(number)}
                section[step] = "?" + urlencode({k: v for k, v in query.items() if v})
    return render(
        request,
        "support/inbox.html",
        {"sections": sections, "refresh_seconds": INBOX_REFRESH_SECONDS},
    )


# Often enough that nobody waits long unseen; rarely enough to cost nothing.
INBOX_REFRESH_SECONDS = 20


PAGED_LISTS = ("open", "waiting", "answered", "closed")
