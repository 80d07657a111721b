from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import IntegrityError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from accounts.permissions import administered_centres, visible_centres

from . import records
from .forms import ListFilterForm, UploadForm
from .models import NonEdexcelQualification, PendingUpload
from .upload import EXAMPLE, MAX_BYTES, MAX_ROWS, TEMPLATE, checked_upload


def qualification_list(request: HttpRequest) -> HttpResponse:
    centres = list(visible_centres(request.user).order_by("number")[:500])
    form = ListFilterForm(request.GET or None, centres=centres)
    items = NonEdexcelQualification.objects.select_related("learner", "added_by")
    if form.is_valid():
        if form.cleaned_data["centre"]:
            items = items.filter(learner__centre_id=form.cleaned_data["centre"])
        if form.cleaned_data["component"]:
            items = items.filter(component=form.cleaned_data["component"])
    page = Paginator(
        items.order_by("learner__surname", "learner__forename", "learner_id", "qan"), 50
    ).get_page(request.GET.get("page"))
    return render(
        request,
        "nonedexcel/list.html",
        {
            "filter_form": form,
            "page": page,
            "upload_form": UploadForm(),
            "can_upload": administered_centres(request.user).exists(),
            **_limits(),
        },
    )


def _limits() -> dict:
    return {"max_mb": MAX_BYTES // 1024 // 1024, "max_rows": MAX_ROWS, "example": EXAMPLE}


def template_csv(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(TEMPLATE, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="non-edexcel-template.csv"'
    return response


def _administered_numbers(user) -> list[str]:
    numbers = list(administered_centres(user).values_list("number", flat=True))
    if not numbers:
        raise PermissionDenied("Only a centre's administrators can upload qualifications.")
    return numbers


@require_POST
def upload(request: HttpRequest) -> HttpResponse:
    _administered_numbers(request.user)
    form = UploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return render(
            request, "nonedexcel/upload_error.html", {"form": form, **_limits()}, status=400
        )
    uploaded = form.cleaned_data["file"]
    if uploaded.size > MAX_BYTES:
        form.add_error("file", f"The file is larger than {MAX_BYTES // 1024 // 1024} MB.")
        return render(
            request, "nonedexcel/upload_error.html", {"form": form, **_limits()}, status=400
        )
    pending = records.keep_pending_upload(request.user, uploaded.name, uploaded.read(MAX_BYTES + 1))
    return redirect("nonedexcel_preview", upload_id=pending.pk)


def _pending_for(request, upload_id) -> PendingUpload:
    pending = records.pending_upload(request.user, upload_id)
    if pending is None:
        raise Http404("No such upload: it may have expired, or been replaced by a newer one")
    return pending


def preview(request: HttpRequest, upload_id) -> HttpResponse:
    centres = _administered_numbers(request.user)
    pending = _pending_for(request, upload_id)
    check = checked_upload(pending, centres)
    return render(
        request,
        "nonedexcel/preview.html",
        {"pending": pending, "check": check, **_limits()},
        status=200 if check.ok or pending.confirmed_at else 400,
    )


@require_POST
def confirm(request: HttpRequest, upload_id) -> HttpResponse:
    centres = _administered_numbers(request.user)
    pending = _pending_for(request, upload_id)
    if pending.confirmed_at is not None:
        messages.info(request, "This upload was already recorded; nothing was added twice.")
        return redirect("nonedexcel_list")
    check = checked_upload(pending, centres)
    if not check.ok:
        messages.error(request, "The file has errors: nothing was recorded.")
        return redirect("nonedexcel_preview", upload_id=pending.pk)
    try:
        committed = records.commit_upload(request.user, pending, check)
    except records.AlreadyConfirmed:
        messages.info(request, "This upload was already recorded; nothing was added twice.")
        return redirect("nonedexcel_list")
    except IntegrityError:
        # A learner of the file left the register since the preview: nothing was written.
        messages.error(
            request,
            "Nothing was recorded: the learners changed since the preview. "
            "Check the file again below and confirm.",
        )
        return redirect("nonedexcel_preview", upload_id=pending.pk)
    added = committed.added
    if added:
        messages.success(
            request, f"Recorded {added} non-Edexcel qualification{'s' if added != 1 else ''}."
        )
    if committed.already_recorded:
        skipped = committed.already_recorded
        lines = "; ".join(f"line {r.line} ({r.uln}, {r.qan})" for r in skipped[:20])
        more = f" and {len(skipped) - 20} more" if len(skipped) > 20 else ""
        messages.warning(
            request,
            f"{len(skipped)} row{'s were' if len(skipped) != 1 else ' was'} not recorded: "
            f"someone recorded the same qualification for the learner meanwhile ({lines}{more}).",
        )
    return redirect("nonedexcel_list")
