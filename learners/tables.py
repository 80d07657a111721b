"""The Overview and Detail tables (django-tables2), sorted by keys held in the snapshot."""

import django_tables2 as tables
from django.db.models import F
from django.urls import reverse
from django.utils.html import format_html

from flags import codes
from flags.models import COMPONENT_FIELDS
from flags.templatetags.flag_tags import flag, flag_pair

from . import diploma

TEMPLATE = "tables/table.html"


class LearnerColumn(tables.Column):
    def render(self, record):
        return format_html(
            '<a href="{}">{}</a>', reverse("learner_record", args=[record.uln]), record.uln
        )


class ComponentColumn(tables.Column):
    """A component's entry and assessment flags; sorted by status, worst first."""

    def __init__(self, component: str, **kwargs) -> None:
        name = COMPONENT_FIELDS[component]
        super().__init__(
            verbose_name=diploma.COMPONENT_SHORT_NAMES[component],
            accessor=f"{name}_entry",
            order_by=(f"{name}_rank", "surname", "uln"),
            attrs={"th": {"abbr": diploma.COMPONENT_NAMES[component], "data-component": component}},
            **kwargs,
        )
        self.component = component
        self.name = name

    def render(self, record, value):
        if not value:
            return format_html('<span class="muted">Not part of this Diploma</span>')
        late = self.component in getattr(record, "late_components", ())
        entry = codes.UNDETERMINED if late else value
        assessment = None if late else getattr(record, f"{self.name}_assessment") or None
        return flag_pair(self.component, entry, assessment, late)


class GradeColumn(tables.Column):
    def render(self, record, value):
        if not record.grade:
            return format_html("{}", value)
        if record.grade_is_estimate:
            return format_html(
                '{} <span class="estimate" data-estimate="true">({} estimated)</span>',
                value,
                record.grade,
            )
        return format_html("{} <strong>({})</strong>", value, record.grade)


class OverviewTable(tables.Table):
    uln = LearnerColumn(verbose_name="ULN", order_by=("uln",))
    name = tables.Column(
        verbose_name="Learner", accessor="surname", order_by=("surname", "forename", "uln")
    )
    centre = tables.Column(accessor="centre_id", verbose_name="Centre", order_by=("centre", "uln"))
    line = tables.Column(verbose_name="Line", order_by=("line", "surname", "uln"))
    level = tables.Column(order_by=("level", "surname", "uln"))
    award_series = tables.Column(
        verbose_name="Award date", order_by=("award_series", "surname", "uln")
    )
    pl = ComponentColumn(diploma.PL)
    project = ComponentColumn(diploma.PROJECT)
    fs_english = ComponentColumn(diploma.FS_ENGLISH)
    fs_maths = ComponentColumn(diploma.FS_MATHS)
    fs_ict = ComponentColumn(diploma.FS_ICT)
    asl = ComponentColumn(diploma.ASL)
    plts = ComponentColumn(diploma.PLTS)
    wex = ComponentColumn(diploma.WEX)
    problems = tables.Column(
        attrs={"td": {"class": "numeric"}, "th": {"class": "numeric"}},
        order_by=("-problems", "surname", "uln"),
    )
    points = GradeColumn(verbose_name="Points (grade)", order_by=("-points", "surname", "uln"))

    class Meta:
        template_name = TEMPLATE
        attrs = {"class": "data-table overview-table"}
        empty_text = "No learners match these filters."
        order_by = ("name",)

    def render_name(self, record):
        return f"{record.surname}, {record.forename}"

    def render_line(self, value):
        line = diploma.LINES_OF_LEARNING.get(value)
        return format_html('<abbr title="{}">{}</abbr>', line.name, value) if line else value

    def render_level(self, value):
        return diploma.LEVELS[value].name if value in diploma.LEVELS else value

    def render_award_series(self, value):
        from learners.templatetags.learner_tags import series_name

        return series_name(value) if value else "Not set"


class DetailTable(tables.Table):
    uln = LearnerColumn(verbose_name="ULN", order_by=("uln", "component_order"))
    name = tables.Column(
        verbose_name="Learner",
        accessor="surname",
        order_by=("surname", "forename", "uln", "component_order", "severity_rank"),
    )
    component = tables.Column(order_by=("component_order", "surname", "uln"))
    element = tables.Column(orderable=False)
    issue = tables.Column(verbose_name="Problem", orderable=False)
    action = tables.Column(verbose_name="What to do", orderable=False)
    deadline = tables.DateColumn(
        format="j M Y", order_by=("deadline", "severity_rank", "surname", "uln")
    )
    points = GradeColumn(verbose_name="Points (grade)", order_by=("-points", "surname", "uln"))

    class Meta:
        template_name = TEMPLATE
        attrs = {"class": "data-table detail-table"}
        empty_text = "Nothing to do for the learners these filters select."
        order_by = ("name",)

    def render_name(self, record):
        return f"{record.surname}, {record.forename}"

    def order_deadline(self, queryset, is_descending):
        # Lines without a deadline come last either way: they are never the most pressing.
        deadline = (
            F("deadline").desc(nulls_last=True)
            if is_descending
            else F("deadline").asc(nulls_last=True)
        )
        return queryset.order_by(deadline, "severity_rank", "surname", "uln"), True

    def render_component(self, record, value):
        return diploma.COMPONENT_NAMES.get(value, value)

    def render_issue(self, record, value):
        if record.ready:
            return format_html(
                '{} <span class="muted">Ready for aggregation</span>',
                flag(record.component, codes.ENTRY, record.flag),
            )
        return value

    def render_element(self, record, value):
        return value or "—"
