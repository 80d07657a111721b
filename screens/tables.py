"""The Overview and Detail tables (django-tables2), sorted by keys held in the snapshot."""

import functools
import html
from collections import OrderedDict

import django_tables2 as tables
from django.db.models import F
from django.forms.utils import flatatt
from django.utils.formats import date_format
from django.utils.html import conditional_escape, escape, format_html
from django.utils.http import urlencode
from django.utils.safestring import SafeString, mark_safe

from flags import codes
from flags.models import COMPONENT_FIELDS
from flags.templatetags.flag_tags import flag, flag_cell
from learners import diploma

from . import urgency
from .cohort import LATE_ACTION, LATE_ISSUE

TEMPLATE = "tables/table.html"


def _cell_html(value) -> str:
    """conditional_escape without its wrapper's look for lazy arguments at every call: 800
    cells a page, and no column renders a lazy string."""
    if hasattr(value, "__html__"):
        return value.__html__()
    return html.escape(str(value))


class _ColumnsOfTheClass(OrderedDict):
    """A table class's columns, used as they are by each request's table.

    django-tables2 deep-copies them for each table so that one table may hide or change a
    column for one request; none of ours does (BoundColumns.hide and .show would change
    them for every request), and the copy was a twentieth of the Overview's time.
    """

    def __deepcopy__(self, memo: dict) -> OrderedDict:
        return OrderedDict(self)


class FastRowsTable(tables.Table):
    """Renders its page of rows in one pass of Python.

    django-tables2 inspects each render method's signature for every cell; on a page of
    50 learners × 16 columns that is most of the request. The columns below all render
    with (record, value), so the rows are built here instead, with the same methods.
    """

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        cls.base_columns = _ColumnsOfTheClass(cls.base_columns)

    # Appended to each link to a learner's record (screens.lists.link_suffix).
    link_suffix = ""
    # Each learner with a box to choose them by (administrators, on the Overview).
    selectable = False

    def fast_rows(self) -> SafeString:
        columns = [
            (
                column,
                functools.partial(
                    column.column.cell, suffix=self.link_suffix, selectable=self.selectable
                )
                if isinstance(column.column, LearnerColumn)
                else getattr(column.column, "cell", None)
                or getattr(self, f"render_{column.name}", None),
                flatatt(column.attrs.get("td", {})),
                str(column.accessor),
            )
            for column in self.columns
        ]
        # The learner's name heads its row (th scope=row): a screen reader names each cell's row.
        tags = [
            ("th", ' scope="row"') if getattr(column.column, "row_header", False) else ("td", "")
            for column in self.columns
        ]
        rows = []
        previous = None
        for row in self.page.object_list if self.page else self.rows:
            record = row.record
            heading = self.heading_before(record, previous)
            if heading:
                rows.append(heading)
            previous = record
            cells = []
            for (_column, render, attrs, accessor), (tag, scope) in zip(columns, tags, strict=True):
                value = getattr(record, accessor)
                shown = render(record=record, value=value) if render else value
                cells.append(f"<{tag}{scope}{attrs}>{_cell_html(shown)}</{tag}>")
            rows.append(f"<tr>{''.join(cells)}</tr>")
        return mark_safe("\n".join(rows))  # noqa: S308 - every part escaped above

    def fast_head(self) -> SafeString:
        """The header cells, as tables/table.html wrote them with a template loop: each
        sortable column a link that sorts by it, with aria-sort saying how the rows are
        sorted now. (Twenty variable lookups a column made it a third of the page's time.)"""
        query = dict(self.request.GET) if getattr(self, "request", None) else {}
        field = self.prefixed_order_by_field
        cells = []
        for column in self.columns:
            th = column.attrs.get("th")
            attrs = th.as_html() if hasattr(th, "as_html") else ""
            header = conditional_escape(column.header)
            if not column.orderable:
                cells.append(f'<th scope="col" {attrs}>\n        {header}\n      </th>')
                continue
            alias = column.order_by_alias
            if column.is_ordered:
                sort = "descending" if alias.is_descending else "ascending"
                hint = f", sorted {sort}; select to reverse"
            else:
                sort, hint = "none", ", select to sort"
            if not column.is_ordered and getattr(column.column, "descending_first", False):
                order = f"-{column.name}"
            else:
                order = alias.next
            href = escape("?" + urlencode({**query, field: order}, doseq=True))
            cells.append(
                f'<th scope="col" {attrs} aria-sort="{sort}">\n        <a href="{href}">{header}'
                f'<span class="visually-hidden">{hint}</span></a>\n      </th>'
            )
        return mark_safe("\n    ".join(cells))  # noqa: S308 - every part escaped above

    def heading_before(self, record, previous) -> str:
        """A row that heads a group of rows, before `record`; none by default."""
        return ""


class LearnerColumn(tables.Column):
    def render(self, record, value=None, suffix: str = "", selectable: bool = False):
        # Escaped here rather than by format_html, whose look for lazy strings in every
        # argument made this column a tenth of the Overview's time.
        uln = html.escape(record.uln)
        link = f'<a href="/learners/{uln}/{html.escape(suffix)}">{uln}</a>'
        if not selectable:
            return mark_safe(link)  # noqa: S308 - every part escaped above
        # A box of the form that sets award dates for the learners chosen (screens.views.awards).
        return mark_safe(  # noqa: S308 - every part escaped above
            f'<input type="checkbox" name="uln" value="{uln}" form="choose-learners" '
            f'aria-label="Choose {html.escape(record.surname)}, {html.escape(record.forename)}">'
            f" {link}"
        )

    cell = render


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
            return mark_safe('<span class="muted">Not part of this Diploma</span>')
        late = self.component in getattr(record, "late_components", ())
        entry = codes.UNDETERMINED if late else value
        assessment = None if late else getattr(record, f"{self.name}_assessment") or None
        return flag_cell(self.component, entry, assessment, late)

    cell = render


class CountColumn(tables.Column):
    """A number, right-aligned; the most first when first selected."""

    descending_first = True

    def __init__(self, **kwargs) -> None:
        super().__init__(attrs={"td": {"class": "numeric"}, "th": {"class": "numeric"}}, **kwargs)


class PercentColumn(CountColumn):
    """A share of something, or a dash where it does not apply (no ASL in the Diploma)."""

    def render(self, record, value):
        return "—" if value is None else f"{value}%"

    cell = render


class GradeColumn(tables.Column):
    # The most points first when first selected, as for problems.
    descending_first = True

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

    cell = render


def by_number(queryset, field: str, is_descending: bool):
    number = F(field).desc(nulls_last=True) if is_descending else F(field).asc(nulls_last=True)
    return queryset.order_by(number, "surname", "forename", "uln")


class NameColumn(tables.Column):
    """The learner's name: the row's header."""

    row_header = True


class OverviewTable(FastRowsTable):
    uln = LearnerColumn(verbose_name="ULN", order_by=("uln",))
    name = NameColumn(
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
    problems = CountColumn(order_by=("problems", "surname", "uln"))
    points = GradeColumn(verbose_name="Points (grade)", order_by=("points", "surname", "uln"))
    asl_percent = PercentColumn(verbose_name="ASL %", order_by=("asl_percent", "surname", "uln"))

    class Meta:
        template_name = TEMPLATE
        attrs = {"class": "data-table overview-table compact-flags"}
        empty_text = "No learners match these filters."
        order_by = ("name",)

    def render_name(self, record, value=None):
        return f"{record.surname}, {record.forename}"

    # Numbers sort by the number only, learners with the same one by name either way, and
    # a learner with no figure (no ASL in their Diploma) last either way.
    def order_problems(self, queryset, is_descending):
        return by_number(queryset, "problems", is_descending), True

    def order_points(self, queryset, is_descending):
        return by_number(queryset, "points", is_descending), True

    def order_asl_percent(self, queryset, is_descending):
        return by_number(queryset, "asl_percent", is_descending), True

    def render_line(self, record, value):
        line = diploma.LINES_OF_LEARNING.get(value)
        return format_html('<abbr title="{}">{}</abbr>', line.name, value) if line else value

    def render_level(self, record, value):
        return diploma.LEVELS[value].name if value in diploma.LEVELS else value

    def render_award_series(self, record, value):
        return diploma.series_name(value) if value else "Not set"


class DetailTable(FastRowsTable):
    uln = LearnerColumn(verbose_name="ULN", order_by=("uln", "component_order"))
    name = tables.Column(
        verbose_name="Learner",
        accessor="surname",
        order_by=("surname", "forename", "uln", "component_order", "severity_rank"),
    )
    urgency = tables.Column(accessor="severity", orderable=False)
    component = tables.Column(order_by=("component_order", "surname", "uln"))
    element = tables.Column(orderable=False)
    issue = tables.Column(verbose_name="Problem", orderable=False)
    action = tables.Column(verbose_name="What to do", orderable=False)
    deadline = tables.DateColumn(
        format="j M Y", order_by=("deadline", "severity_rank", "surname", "uln")
    )
    points = GradeColumn(verbose_name="Points (grade)", order_by=("points", "surname", "uln"))

    class Meta:
        template_name = TEMPLATE
        attrs = {"class": "data-table detail-table"}
        empty_text = "Nothing to do for the learners these filters select."
        order_by = ("name",)

    def render_name(self, record, value=None):
        return f"{record.surname}, {record.forename}"

    def order_points(self, queryset, is_descending):
        return by_number(queryset, "points", is_descending), True

    def render_deadline(self, record, value):
        if value and not getattr(record, "late", False):
            return date_format(value, "j M Y")
        return "—"

    def order_deadline(self, queryset, is_descending):
        # Lines without a deadline come last either way: they are never the most pressing.
        deadline = (
            F("deadline").desc(nulls_last=True)
            if is_descending
            else F("deadline").asc(nulls_last=True)
        )
        return queryset.order_by(deadline, "severity_rank", "surname", "uln"), True

    # The day urgency is judged on; the view sets it (flags.clock.today).
    today = None

    def render_urgency(self, record, value):
        found = (
            None
            if getattr(record, "late", False)
            else urgency.of(
                ready=record.ready,
                severity=record.severity,
                flag=record.flag,
                deadline=record.deadline,
                day=self.today,
            )
        )
        return "—" if found is None else _urgency_badge(found)

    def heading_before(self, record, previous) -> str:
        # Grouped by learner when listed by learner: a heading each time the learner changes.
        if not self._by_learner or (previous is not None and previous.uln == record.uln):
            return ""
        # Escaped here rather than by format_html: a heading for most of the page's rows.
        uln, surname, forename = (
            html.escape(v) for v in (record.uln, record.surname, record.forename)
        )
        return (
            f'<tr class="learner-group"><th colspan="{len(self.columns)}" scope="colgroup">'
            f'<a href="/learners/{uln}/{html.escape(self.link_suffix)}">{surname}, {forename}</a>'
            f' <span class="muted">ULN {uln}</span></th></tr>'
        )

    @functools.cached_property
    def _by_learner(self) -> bool:
        return not self.order_by or self.order_by[0].bare == "name"

    def render_component(self, record, value):
        return diploma.COMPONENT_NAMES.get(value, value)

    def render_issue(self, record, value):
        if getattr(record, "late", False):
            return format_html(
                "{} {}", flag(record.component, codes.ENTRY, codes.UNDETERMINED, True), LATE_ISSUE
            )
        if record.ready:
            # Only a component complete on the DAS is ready for aggregation (DOMAIN.md 4.5).
            words = (
                "Ready for aggregation"
                if record.flag == codes.COMPLETE
                else "Nothing to do for now"
            )
            return format_html(
                '{} <span class="muted">{}</span>',
                flag(record.component, codes.ENTRY, record.flag),
                words,
            )
        if record.severity == codes.INFO:
            # Shown so the centre can plan; not a problem, and not counted as one.
            return format_html(
                '<strong class="severity-info">{}:</strong> {}',
                codes.SEVERITY_LABELS[codes.INFO],
                value,
            )
        return value

    def render_action(self, record, value):
        return LATE_ACTION if getattr(record, "late", False) else value

    def render_element(self, record, value):
        if getattr(record, "late", False):
            return "—"
        return value or "—"


class ChangesTable(FastRowsTable):
    changed_on = tables.DateColumn(
        verbose_name="Build of", format="j M Y", order_by=("changed_on", "surname", "uln")
    )
    uln = LearnerColumn(verbose_name="ULN", order_by=("uln", "-changed_on"))
    name = NameColumn(
        verbose_name="Learner", accessor="surname", order_by=("surname", "forename", "uln")
    )
    centre = tables.Column(accessor="centre_id", verbose_name="Centre", order_by=("centre", "uln"))
    component = tables.Column(order_by=("component", "surname", "uln"))
    kind = tables.Column(verbose_name="Change", order_by=("kind", "surname", "uln"))
    before = tables.Column(orderable=False)
    after = tables.Column(orderable=False)

    class Meta:
        template_name = TEMPLATE
        attrs = {"class": "data-table changes-table"}
        empty_text = "Nothing changed in the builds these filters select."
        order_by = ("-changed_on",)

    def render_changed_on(self, record, value):
        return date_format(value, "j M Y")

    def render_name(self, record, value=None):
        return f"{record.surname}, {record.forename}"

    def render_component(self, record, value):
        return diploma.COMPONENT_NAMES.get(value, value)

    def render_kind(self, record, value):
        return record.get_kind_display()

    def render_before(self, record, value):
        return _change_side(record, value)

    def render_after(self, record, value):
        return _change_side(record, value)


@functools.cache
def _urgency_badge(found: urgency.Urgency) -> SafeString:
    return format_html(
        '<span class="urgency urgency--{}" data-urgency="{}">'
        '<span class="urgency__icon" aria-hidden="true">{}</span> {}</span>',
        found.tone,
        found.code,
        found.symbol,
        found.label,
    )


def _change_side(record, value: str):
    """A flag as its badge; a problem in its words; nothing as a dash."""
    if not value:
        return "—"
    if record.kind == "entry flag":
        return flag(record.component, codes.ENTRY, value)
    if record.kind == "assessment flag":
        return flag(record.component, codes.ASSESSMENT, value)
    return value
