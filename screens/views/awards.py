"""Award dates for many learners at once (issue 20): the Overview's learners, as filtered, at
the centres the user administers; asked, then done in one transaction."""

from django.contrib import messages
from django.core import signing
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from accounts.permissions import administered_centres
from base.confirm import confirmed
from flags.clock import today
from flags.snapshot import current_run
from learners import diploma
from learners.awardfile import AwardFileCheck, check_award_rows, read_award_file
from learners.awards import choose_award_dates, set_award_dates
from learners.forms import AwardFileForm, BulkAwardDateForm
from screens import cohort
from screens.filters import OverviewFilter, applied


def _learners(request: HttpRequest, filters: str) -> tuple[list[str], list[str], list[str]]:
    """The ULNs the Overview lists with these filters at centres the user administers, the
    filters in words, and those centres. Filters that are not valid are refused: dropped,
    they would widen the change to every learner."""
    centres = list(administered_centres(request.user).values_list("number", flat=True))
    if not centres:
        raise PermissionDenied("Only a centre's administrators can change award dates.")
    run = current_run()
    filterset = OverviewFilter(
        QueryDict(filters),
        queryset=cohort.overview_rows(run).filter(centre_id__in=centres),
        user=request.user,
        award_series=cohort.award_series_offered(run, request.user),
        late_changes=cohort.late_changes(run),
    )
    if filterset.is_bound and not filterset.form.is_valid():
        raise BadFilters
    rows = filterset.qs.order_by()
    chosen = QueryDict(filters).getlist("uln")
    if chosen:  # learners chosen one by one on the Overview, among those it lists
        rows = rows.filter(uln__in=chosen[:MOST_CHOSEN])
    ulns = list(rows.values_list("uln", flat=True))
    return ulns, applied(filterset), centres


# A page of the Overview is 50 learners; a few pages' worth chosen in one go is plenty.
MOST_CHOSEN = 1000


class BadFilters(Exception):
    pass


@require_http_methods(["GET", "POST"])
def bulk_award_date(request: HttpRequest) -> HttpResponse:
    data = request.POST if request.method == "POST" else None
    initial = {"filters": request.GET.urlencode()}
    form = BulkAwardDateForm(data, initial=initial, today=today())
    filters = form.data.get("filters", "") if data is not None else initial["filters"]
    overview = f"{reverse('overview')}?{filters}" if filters else reverse("overview")
    try:
        ulns, said, centres = _learners(request, filters)
    except BadFilters:
        messages.error(request, "Those filters are not valid: choose them again on the Overview.")
        return redirect(overview)
    context = {
        "form": form,
        "count": len(ulns),
        "filters_said": said,
        "overview": overview,
        "chosen": bool(QueryDict(filters).getlist("uln")),
    }
    if data is None or not form.is_valid():
        return render(
            request, "learners/bulk_award_date.html", context, status=400 if data else 200
        )
    series = form.cleaned_data["award_series"]
    context["series_name"] = diploma.series_name(series) if series else "not set"
    if not confirmed(request):
        return render(request, "learners/bulk_award_date_confirm.html", context)
    if request.POST.get("count") != str(len(ulns)):
        # The list changed between the question and the answer (a rebuild, an import): the
        # answer was to another number of learners, so it is asked again.
        context["changed_since"] = True
        return render(request, "learners/bulk_award_date_confirm.html", context, status=409)
    done = set_award_dates(request.user, ulns, series, centres=centres)
    learners = f"{done.changed} learner{'s' if done.changed != 1 else ''}"
    words = f"The anticipated award date of {learners} was "
    words += f"set to {diploma.series_name(series)}." if series else "cleared."
    if done.already:
        words += f" {done.already} already had it."
    if done.too_early:
        words += f" {done.too_early} registered after it kept theirs."
    messages.success(request, words)
    return redirect(overview)


_SALT = "award-file"
_KEPT_FOR = 60 * 60  # seconds a checked file waits for its confirmation


@require_http_methods(["GET", "POST"])
def award_file(request: HttpRequest) -> HttpResponse:
    """Award dates from a file: checked whole, shown, then written all or nothing."""
    administered = set(administered_centres(request.user).values_list("number", flat=True))
    if not administered:
        raise PermissionDenied("Only a centre's administrators can change award dates.")
    if request.method == "POST" and "checked" in request.POST:
        return _confirm_file(request, administered)
    form = AwardFileForm(request.POST or None, request.FILES or None)
    context = {"form": form}
    if request.method == "POST" and form.is_valid():
        rows, errors = read_award_file(form.cleaned_data["file"].read())
        check = (
            check_award_rows(rows, administered) if not errors else AwardFileCheck(errors=errors)
        )
        context |= {
            "check": check,
            "checked": signing.dumps(rows, salt=f"{_SALT}:{request.user.pk}", compress=True),
        }
        return render(request, "learners/award_file.html", context, status=200 if check.ok else 400)
    return render(request, "learners/award_file.html", context, status=400 if form.errors else 200)


def _confirm_file(request: HttpRequest, administered: set[str]) -> HttpResponse:
    try:
        rows = signing.loads(
            request.POST["checked"], salt=f"{_SALT}:{request.user.pk}", max_age=_KEPT_FOR
        )
    except signing.BadSignature:
        messages.error(request, "That upload has expired: upload the file again.")
        return redirect("bulk_award_file")
    # Checked again: the learners or your centres may have changed since the preview.
    check = check_award_rows([tuple(row) for row in rows], administered)
    if not check.ok:
        return render(
            request,
            "learners/award_file.html",
            {"form": AwardFileForm(), "check": check},
            status=400,
        )
    done = choose_award_dates(request.user, check.choices, centres=administered)
    messages.success(
        request,
        f"The anticipated award date of {done.changed} learner{'s' if done.changed != 1 else ''} "
        f"was set from the file.{f' {done.already} already had theirs.' if done.already else ''}",
    )
    return redirect("overview")
