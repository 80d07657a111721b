import logging

from django.contrib import messages
from django.db import IntegrityError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from accounts.models import AuditEvent
from accounts.permissions import can_administer
from base.confirm import ask, confirmed
from flags.clock import today
from flags.loaders import current_catalogue, load_learner
from flags.rules import could_not_check, evaluate_or_report
from learners.access import learner_for, note_support_read
from learners.awards import change_award_date
from learners.forms import AwardDateForm
from nonedexcel import records
from nonedexcel.forms import NonEdexcelForm
from nonedexcel.models import NonEdexcelQualification
from screens.lists import LIST_PARAMETER, opened_from
from screens.record import Record, build_record

logger = logging.getLogger(__name__)


def learner_record(request: HttpRequest, uln: str) -> HttpResponse:
    learner = learner_for(request.user, uln)
    note_support_read(request.user, learner)
    return render_record(request, learner, from_list=opened_from(request.user, _list_of(request)))


def _list_of(request: HttpRequest) -> str:
    return request.GET.get(LIST_PARAMETER, "")[:2000]


@require_POST
def edit_award_date(request: HttpRequest, uln: str) -> HttpResponse:
    learner = learner_for(request.user, uln, administer=True)
    form = AwardDateForm(request.POST, registered_on=learner.registered_on)
    if not form.is_valid():
        return render_record(request, learner, award_form=form, status=400)
    said = change_award_date(request.user, learner, form.cleaned_data["award_series"])
    if said:
        messages.success(request, said)
    return redirect("learner_record", uln=learner.uln)


def learner_history(user, uln: str):
    """The learner's audit events, from centres the user may see (learners move): the scope
    keeps out those written at a centre the learner left."""
    return AuditEvent.objects.filter(learner_uln=uln)[:100]


def render_record(
    request, learner, *, award_form=None, non_edexcel_form=None, status=200, from_list=None
) -> HttpResponse:
    """The page, with forms as given (bound, with errors) or fresh."""
    if award_form is None:
        award_form = AwardDateForm(
            initial={"award_series": learner.award_series},
            registered_on=learner.registered_on,
        )
    if non_edexcel_form is None:
        non_edexcel_form = NonEdexcelForm(learner=learner)
    day = today()
    non_edexcel = list(
        NonEdexcelQualification.objects.filter(learner=learner).select_related("added_by")
    )
    data = load_learner(learner.uln, learner=learner, non_edexcel=non_edexcel)
    catalogue = current_catalogue()
    flags, error = evaluate_or_report(data, catalogue, day)
    try:
        record = build_record(data, catalogue, flags, day) if error is None else None
    except Exception as failure:  # noqa: BLE001 - this learner's problem, not the page's
        error = failure
    if error is not None:
        # Named by the error's type: its words may quote the learner's data.
        logger.error(
            "The rules failed on a learner (%s); shown as not checked",
            type(error).__name__,
            exc_info=error,
        )
        flags, record = could_not_check(data), Record.unreadable()
    return render(
        request,
        "learners/record.html",
        {
            "learner": learner,
            "flags": flags,
            "problems": flags.problems,
            "info_count": len(flags.problems) - flags.problem_count,
            "record": record,
            "today": day,
            "can_administer": can_administer(request.user, learner.centre_id),
            "award_form": award_form,
            "non_edexcel_form": non_edexcel_form,
            "non_edexcel": non_edexcel,
            "history": learner_history(request.user, learner.uln),
            "from_list": from_list,
            **_neighbours(from_list, learner.uln),
        },
        status=status,
    )


def _neighbours(from_list, uln: str) -> dict:
    if from_list is None:
        return {}
    position, before, after = from_list.around(uln)
    return {
        "list_position": position,
        "list_length": len(from_list.ulns),
        "previous_url": from_list.link(before) if before else "",
        "next_url": from_list.link(after) if after else "",
    }


# Non-Edexcel qualifications, added and removed on the ILR.


@require_POST
def add_for_learner(request: HttpRequest, uln: str) -> HttpResponse:
    learner = learner_for(request.user, uln, administer=True)
    form = NonEdexcelForm(request.POST, learner=learner)
    if not form.is_valid():
        return render_record(request, learner, non_edexcel_form=form, status=400)
    try:
        records.add(request.user, learner, **form.cleaned_data)
    except IntegrityError:  # a double submit
        messages.info(request, "This qualification is already recorded for the learner.")
        return redirect("learner_record", uln=learner.uln)
    messages.success(request, "The non-Edexcel qualification was recorded.")
    return redirect("learner_record", uln=learner.uln)


@require_http_methods(["GET", "POST"])
def remove_for_learner(request: HttpRequest, uln: str, item_id: int) -> HttpResponse:
    learner = learner_for(request.user, uln, administer=True)
    item = get_object_or_404(NonEdexcelQualification, pk=item_id, learner=learner)
    what = f"{item.qan}{f' {item.title}' if item.title else ''}"
    whose = f"{learner.forename} {learner.surname}"
    if not confirmed(request):
        return ask(
            request,
            question=f"Remove {what} from {whose}'s record?",
            details=[
                f"{item.get_component_display()}, recorded as taken with "
                f"{item.awarding_body or 'another awarding body'}.",
                "The component will show as missing again unless an Edexcel entry covers it.",
            ],
            action="Yes, remove it",
            cancel_url=f"{reverse('learner_record', args=[learner.uln])}#non-edexcel",
        )
    records.remove(request.user, item)
    messages.success(request, f"{what} was removed from {whose}'s record.")
    return redirect("learner_record", uln=learner.uln)
