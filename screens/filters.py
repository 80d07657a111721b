"""The filters of the Overview and Detail: line, level, centre, award date, flags.

Every choice is scoped to the user: the centre list holds only their centres, and the
award dates offered are those of their learners in the snapshot.
"""

import datetime
import functools

import django_filters
from django import forms
from django.db.models import Q, QuerySet

from accounts.permissions import visible_centres
from flags import codes
from flags.clock import today
from flags.models import COMPONENT_FIELDS, SnapshotChange
from flags.snapshot import current_run
from learners import diploma

from . import cohort
from . import urgency as urgencies

NOT_SET = "none"


class CohortFilter(django_filters.FilterSet):
    line = django_filters.ChoiceFilter(
        label="Line of learning",
        choices=[(line.code, line.name) for line in diploma.LINES_OF_LEARNING.values()],
        empty_label="All lines",
    )
    level = django_filters.ChoiceFilter(choices=diploma.LEVEL_CHOICES, empty_label="All levels")
    # The user's centres as plain choices, read once and only if asked for (an export never
    # shows them): a model choice field read them again to check the one chosen and again
    # to list them (a query each, and a third of the filters' time on a page).
    centre = django_filters.ChoiceFilter(
        empty_label="All your centres",
        error_messages={
            "invalid_choice": forms.ModelChoiceField.default_error_messages["invalid_choice"]
        },
    )
    award = django_filters.ChoiceFilter(
        label="Award date", method="filter_award", empty_label="Any award date"
    )
    award_upto = django_filters.ChoiceFilter(
        label="Award date up to", method="filter_award_upto", empty_label="No limit"
    )

    def __init__(
        self,
        data=None,
        *args,
        user,
        award_series: list[str],
        late_changes: tuple[int, ...] = (),
        **kwargs,
    ) -> None:
        super().__init__(data, *args, **kwargs)
        # Changes the snapshot did not see: their components read "undetermined" everywhere.
        self.late_changes = late_changes
        self.filters["centre"].extra["choices"] = functools.cache(
            lambda: [
                (number, f"{number} {name}")
                for number, name in visible_centres(user)
                .order_by("number")
                .values_list("number", "name")
            ]
        )
        series = [(code, diploma.series_name(code)) for code in award_series if code]
        self.filters["award"].extra["choices"] = [*series, (NOT_SET, "Not set")]
        self.filters["award_upto"].extra["choices"] = series

    def filter_award(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(award_series="" if value == NOT_SET else value)

    def filter_award_upto(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.exclude(award_series="").filter(award_series__lte=value)


class OverviewFilter(CohortFilter):
    component = django_filters.ChoiceFilter(
        label="Component",
        choices=[(c, diploma.COMPONENT_NAMES[c]) for c in diploma.COMPONENTS],
        method="filter_nothing",
        empty_label="Any component",
    )
    flag = django_filters.ChoiceFilter(
        label="Flag",
        choices=[
            *((code, f"Entry: {codes.entry_flag(code).label}") for code in codes.ENTRY_FLAGS),
            *(
                (code, f"Assessment: {codes.assessment_flag(code).label}")
                for code in codes.ASSESSMENT_FLAGS
            ),
        ],
        method="filter_nothing",
        empty_label="Any flag",
    )

    def filter_nothing(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset  # component and flag work together in filter_queryset

    def filter_queryset(self, queryset: QuerySet) -> QuerySet:
        queryset = super().filter_queryset(queryset)
        flag = self.form.cleaned_data.get("flag")
        if not flag:
            return queryset
        component = self.form.cleaned_data.get("component")
        kind = "entry" if flag in codes.ENTRY_FLAGS else "assessment"
        chosen = [component] if component else list(COMPONENT_FIELDS)
        matches = Q()
        for code in chosen:
            name = COMPONENT_FIELDS[code]
            match = Q(**{f"{name}_{kind}": flag})
            if self.late_changes:
                # As the page shows it: a component with data since the snapshot is
                # "undetermined", with no assessment flag, whatever the snapshot says.
                late = cohort.is_late(self.late_changes, code)
                if flag == codes.UNDETERMINED:
                    match |= late & ~Q(**{f"{name}_entry": ""})
                else:
                    match &= ~late
            matches |= match
        return queryset.filter(matches)


class DetailFilter(CohortFilter):
    component = django_filters.ChoiceFilter(
        label="Component",
        choices=[(c, diploma.COMPONENT_NAMES[c]) for c in diploma.COMPONENTS],
        empty_label="Any component",
    )
    urgency = django_filters.ChoiceFilter(
        label="Urgency",
        choices=[(u.code, u.label) for u in urgencies.URGENCIES],
        method="filter_urgency",
        empty_label="Any urgency",
    )
    due_soon = django_filters.BooleanFilter(
        label=f"Due in the next {urgencies.DUE_SOON_DAYS} days",
        method="filter_due_soon",
        widget=forms.CheckboxInput,
    )
    element = django_filters.CharFilter(
        label="Unit or claim",
        method="filter_element",
        max_length=200,
    )
    due_from = django_filters.DateFilter(
        label="Last day from",
        method="filter_due_from",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    due_to = django_filters.DateFilter(
        label="Last day up to",
        method="filter_due_to",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    show_info = django_filters.BooleanFilter(
        label="Show lines for information only",
        method="filter_info",
        widget=forms.CheckboxInput,
    )
    show_ready = django_filters.BooleanFilter(
        label="Show components with nothing to do (ready for aggregation, or waiting)",
        method="filter_ready",
        widget=forms.CheckboxInput,
    )

    def filter_urgency(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        # A component whose data arrived since the snapshot has no urgency yet ("—").
        return self._not_late(queryset.filter(urgencies.condition(value, today())))

    def filter_due_soon(self, queryset: QuerySet, name: str, value: bool) -> QuerySet:
        if not value:
            return queryset
        return self._not_late(queryset.filter(urgencies.condition(urgencies.DUE_SOON, today())))

    def filter_element(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(element=value.strip()) if value.strip() else queryset

    # A component whose data arrived since the snapshot has no known deadline yet, as it has
    # no urgency: the deadlines are the snapshot's.
    def filter_due_from(self, queryset: QuerySet, name: str, value) -> QuerySet:
        return self._not_late(queryset.filter(deadline__gte=value))

    def filter_due_to(self, queryset: QuerySet, name: str, value) -> QuerySet:
        return self._not_late(queryset.filter(deadline__lte=value))

    def _not_late(self, queryset: QuerySet) -> QuerySet:
        return queryset.filter(late=False) if self.late_changes else queryset

    def filter_info(self, queryset: QuerySet, name: str, value: bool) -> QuerySet:
        # Hidden unless asked for, by this box or by choosing that urgency: they are not
        # problems, and the list is to work through.
        if value or self.form.cleaned_data.get("urgency") == urgencies.INFORMATION:
            return queryset
        # By the severity's rank, which the (run, centre, ready, deadline, rank…) index holds:
        # the page's count then reads the index alone.
        info = Q(severity_rank=codes.SEVERITY_RANK[codes.INFO])
        if self.late_changes:  # a component with data since the snapshot stays, as for ready
            return queryset.filter(~info | Q(late=True))
        return queryset.exclude(info)

    def filter_ready(self, queryset: QuerySet, name: str, value: bool) -> QuerySet:
        # Hidden by default: an unticked box sends nothing, as a first visit does. A component
        # whose data arrived since the snapshot is not known to need nothing: it stays.
        if value:
            return queryset
        if self.late_changes:
            return queryset.filter(Q(ready=False) | Q(late=True))
        return queryset.filter(ready=False)


def applied(filterset: django_filters.FilterSet) -> list[str]:
    """The filters in force, as a person reads them ("Level: Advanced"), for the printout."""
    form = filterset.form
    if not form.is_bound:
        return []
    form.is_valid()  # the fields given well still filter, and are said; the others are not
    said = []
    for name, field in form.fields.items():
        value = getattr(form, "cleaned_data", {}).get(name)
        if value in (None, "", False):
            continue
        if value is True:
            said.append(str(field.label))
            continue
        names = {str(key): label for key, label in getattr(field, "choices", [])}
        said.append(f"{field.label}: {names.get(str(value), value)}")
    return said


class ChangesFilter(CohortFilter):
    """The changes of the last 14 days, filtered as the Overview is, and by kind and when."""

    LAST_BUILD = "build"

    component = django_filters.ChoiceFilter(
        label="Component",
        choices=[(c, diploma.COMPONENT_NAMES[c]) for c in diploma.COMPONENTS],
        empty_label="Any component",
    )
    kind = django_filters.ChoiceFilter(
        label="Change", choices=SnapshotChange.Kind.choices, empty_label="Any change"
    )
    since = django_filters.ChoiceFilter(
        label="When",
        choices=[(LAST_BUILD, "Since the last build"), ("7", "In the last 7 days")],
        method="filter_since",
        empty_label="In the last 14 days",
    )

    def filter_since(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        if value == self.LAST_BUILD:
            run = current_run()
            return queryset.filter(run=run) if run else queryset.none()
        return queryset.filter(changed_on__gt=today() - datetime.timedelta(days=int(value)))
