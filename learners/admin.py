"""The admin site for awarding-body staff: the catalogue, the feed's records and import runs.

The catalogue (lines of learning, series, qualifications, units, mark windows and grade
thresholds) is edited here. What the feed delivers from the MIS and the DAS (learners,
entries, marks, results, VQ and DAS status) is shown read-only: a change made by hand would
be silently overwritten, or contradicted, by the next delivery. Import runs are the record
of those deliveries and are never changed.

The record tables hold up to millions of rows, so their change lists never count the whole
table on PostgreSQL, search digits through indexes, and link foreign keys by id.
"""

import re
from functools import cached_property
from urllib.parse import urlencode

from django.contrib import admin
from django.core.paginator import Paginator
from django.db import connections
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from accounts.admin import LearnerDataAdmin, ReadOnly, ReadOnlyAdmin
from accounts.models import Centre
from base.progress import said

from .access import note_support_read
from .models import (
    ChangedComponent,
    DASStatus,
    DataChange,
    DeliveredFile,
    Entry,
    GradeThreshold,
    ImportRun,
    Learner,
    LineOfLearning,
    MarkSubmission,
    MarkWindow,
    Qualification,
    Result,
    Series,
    Unit,
    VQStatus,
)

DIGITS = re.compile(r"[0-9]+")
CENTRE_AND_CANDIDATE = re.compile(r"([0-9]{5})/([0-9]{1,4})")
ULN_LENGTH = 10
CENTRE_NUMBER_LENGTH = 5
CANDIDATE_NUMBER_LENGTH = 4


class EstimatedCountPaginator(Paginator):
    """Counts an unfiltered PostgreSQL table from the planner's estimate.

    COUNT(*) over millions of rows takes seconds on every page; the estimate is free and
    close enough for the page links. Filtered lists, small tables and SQLite count exactly.
    """

    exact_below = 100_000

    @cached_property
    def count(self) -> int:
        queryset = self.object_list
        if isinstance(queryset, QuerySet) and not queryset.query.has_filters():
            connection = connections[queryset.db]
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    # A partitioned table (the snapshot's) has no figures of its own: its
                    # partitions' add up.
                    cursor.execute(
                        "SELECT SUM(GREATEST(c.reltuples, 0))::bigint FROM pg_class c "
                        "WHERE c.oid = to_regclass(%s) AND c.relkind <> 'p' OR c.oid IN "
                        "(SELECT inhrelid FROM pg_inherits WHERE inhparent = to_regclass(%s))",
                        [queryset.model._meta.db_table] * 2,
                    )
                    row = cursor.fetchone()
                if row and row[0] is not None and row[0] >= self.exact_below:
                    return int(row[0])
        return super().count


class FeedRecordAdmin(LearnerDataAdmin):
    """Delivered by the feed, or as many rows: staff may look, never add, change or delete,
    and the list never counts the whole table."""

    paginator = EstimatedCountPaginator
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER


class UlnSearchMixin:
    """A search of digits alone looks the ULN up exactly (ten digits) or by its start.

    The admin's own lookups compare UPPER(column), which no index answers; these compare the
    column itself, which the natural-key indexes (led by the ULN) answer.
    """

    def digit_search(self, term: str) -> Q:
        if len(term) == ULN_LENGTH:
            return Q(uln=term)
        return Q(uln__startswith=term)

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet, search_term: str
    ) -> tuple[QuerySet, bool]:
        term = search_term.strip()
        if DIGITS.fullmatch(term):
            return queryset.filter(self.digit_search(term)), False
        return super().get_search_results(request, queryset, search_term)


class CentreNumberFilter(admin.SimpleListFilter):
    """?centre=12345, without a list of every centre in the sidebar.

    There are thousands of centres, so the filter offers only the centre chosen; staff get
    here from a centre's links in the centre list, or type the centre number into the search.
    """

    title = "centre"
    parameter_name = "centre"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        number = self.value()
        if not number:
            return []
        centre = Centre.objects.filter(pk=number).first()
        return [(number, str(centre) if centre else number)]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        number = self.value()
        return queryset.filter(centre_id=number) if number else queryset


def _catalogue_key_read_only(obj: object) -> tuple[str, ...]:
    # Codes are primary keys: changing one would make a second row, not rename the first.
    return ("code",) if obj is not None else ()


# The catalogue: edited by staff.


@admin.register(LineOfLearning)
class LineOfLearningAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "first_teaching")
    search_fields = ("code", "name")

    def get_readonly_fields(self, request: HttpRequest, obj: object = None) -> tuple[str, ...]:
        return _catalogue_key_read_only(obj)


@admin.register(Series)
class SeriesAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "results_published_on", "claims_due_on")
    search_fields = ("code", "name")

    def get_readonly_fields(self, request: HttpRequest, obj: object = None) -> tuple[str, ...]:
        return _catalogue_key_read_only(obj)


@admin.register(Qualification)
class QualificationAdmin(admin.ModelAdmin):
    list_display = ("code", "qan", "title", "component", "kind", "level", "line", "glh")
    list_filter = ("component", "kind", "level", "line")
    list_select_related = ("line",)
    search_fields = ("code", "qan", "title")

    def get_readonly_fields(self, request: HttpRequest, obj: object = None) -> tuple[str, ...]:
        return _catalogue_key_read_only(obj)


@admin.register(Unit)
class UnitAdmin(admin.ModelAdmin):
    list_display = ("code", "title", "qualification", "glh", "centre_marked", "mandatory")
    list_filter = ("centre_marked", "mandatory", "qualification__component")
    list_select_related = ("qualification",)
    search_fields = ("code", "title")
    autocomplete_fields = ("qualification",)

    def get_readonly_fields(self, request: HttpRequest, obj: object = None) -> tuple[str, ...]:
        return _catalogue_key_read_only(obj)


@admin.register(MarkWindow)
class MarkWindowAdmin(admin.ModelAdmin):
    list_display = ("unit", "series", "opens_on", "closes_on")
    list_filter = ("series",)
    list_select_related = ("unit", "series")
    search_fields = ("unit__code",)
    search_help_text = "Unit code."
    autocomplete_fields = ("unit",)


@admin.register(GradeThreshold)
class GradeThresholdAdmin(admin.ModelAdmin):
    list_display = ("level", "grade", "min_points")
    list_filter = ("level",)


# What the feed delivers: read-only.


class LearnerEntryInline(ReadOnly, admin.TabularInline):
    model = Entry
    fk_name = "learner"
    fields = ("series", "kind", "code", "centre", "candidate_number", "received_at")
    extra = 0
    show_change_link = True
    verbose_name_plural = "entries matched to this learner"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Entry]:
        return (
            super()
            .get_queryset(request)
            .select_related("series", "centre")
            .order_by("series", "code")
        )


@admin.register(Learner)
class LearnerAdmin(FeedRecordAdmin):
    list_display = ("uln", "surname", "forename", "centre", "line", "level", "award_series")
    list_filter = ("level", "line", CentreNumberFilter)
    list_select_related = ("centre", "line")
    search_fields = ("^surname", "^forename")
    search_help_text = "ULN (or its first digits), centre number, or the start of a name."
    # The primary key's index orders the pages; ordering a million rows by name would not.
    ordering = ("uln",)
    readonly_fields = ("delivered_records",)
    inlines = (LearnerEntryInline,)

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context=None
    ):
        # Each record opened here is audited on its centre, as on the ILR.
        learner = (
            Learner.objects.filter(pk=object_id).first() if DIGITS.fullmatch(object_id) else None
        )
        if learner is not None and self.has_view_permission(request, learner):
            note_support_read(request.user, learner)
        return super().change_view(request, object_id, form_url, extra_context)

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet, search_term: str
    ) -> tuple[QuerySet, bool]:
        term = search_term.strip()
        if DIGITS.fullmatch(term):
            found = Q(uln=term) if len(term) == ULN_LENGTH else Q(uln__startswith=term)
            if len(term) == CENTRE_NUMBER_LENGTH:
                found |= Q(centre_id=term)
            return queryset.filter(found), False
        return super().get_search_results(request, queryset, search_term)

    @admin.display(description="records held by ULN")
    def delivered_records(self, obj: Learner) -> str:
        query = urlencode({"q": obj.uln})
        links = [
            (reverse(f"admin:learners_{model._meta.model_name}_changelist"), query, label)
            for model, label in (
                (MarkSubmission, "marks"),
                (Result, "results"),
                (VQStatus, "VQ status"),
                (DASStatus, "DAS status"),
            )
        ]
        return format_html_join(" · ", '<a href="{}?{}">{}</a>', links)


class MatchedToLearnerFilter(admin.SimpleListFilter):
    title = "matched to a learner"
    parameter_name = "matched"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [("yes", "Yes"), ("no", "No (ULN blank, invalid or unknown)")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() == "yes":
            return queryset.filter(learner__isnull=False)
        if self.value() == "no":
            return queryset.filter(learner__isnull=True)
        return queryset


@admin.register(Entry)
class EntryAdmin(FeedRecordAdmin):
    list_display = (
        "centre",
        "candidate_number",
        "uln",
        "surname",
        "forename",
        "series",
        "kind",
        "code",
        "learner",
        "received_at",
    )
    list_filter = ("kind", "series", MatchedToLearnerFilter, CentreNumberFilter)
    list_select_related = ("centre", "series", "learner")
    search_fields = ("=uln", "=code", "^surname")
    search_help_text = (
        "ULN as submitted, centre number, candidate number, centre/candidate "
        "(12345/0001), or a unit or qualification code."
    )
    raw_id_fields = ("centre", "series", "qualification", "unit", "learner")

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet, search_term: str
    ) -> tuple[QuerySet, bool]:
        term = search_term.strip()
        pair = CENTRE_AND_CANDIDATE.fullmatch(term)
        if pair:
            centre, candidate = pair.groups()
            return queryset.filter(centre_id=centre, candidate_number=candidate.zfill(4)), False
        if DIGITS.fullmatch(term):
            found = Q(uln=term) if len(term) >= ULN_LENGTH else Q(uln__startswith=term)
            if len(term) == CENTRE_NUMBER_LENGTH:
                found |= Q(centre_id=term)
            if len(term) == CANDIDATE_NUMBER_LENGTH:
                found |= Q(candidate_number=term)
            return queryset.filter(found), False
        return super().get_search_results(request, queryset, search_term)


@admin.register(MarkSubmission)
class MarkSubmissionAdmin(UlnSearchMixin, FeedRecordAdmin):
    list_display = ("uln", "series", "unit", "submitted_on")
    list_filter = ("series", "unit__qualification__component")
    list_select_related = ("series", "unit")
    search_fields = ("=unit__code",)
    search_help_text = "ULN (or its first digits) or unit code."
    raw_id_fields = ("series", "unit")


@admin.register(Result)
class ResultAdmin(UlnSearchMixin, FeedRecordAdmin):
    list_display = ("uln", "series", "code", "grade", "points", "published_on")
    list_filter = ("series", "qualification__component")
    list_select_related = ("series",)
    search_fields = ("=code",)
    search_help_text = "ULN (or its first digits) or unit or qualification code."
    raw_id_fields = ("series", "qualification", "unit")


@admin.register(VQStatus)
class VQStatusAdmin(UlnSearchMixin, FeedRecordAdmin):
    list_display = ("uln", "qualification", "verified", "claimed_on", "result_issued_on")
    list_filter = ("verified", "qualification__component")
    list_select_related = ("qualification",)
    search_fields = ("=qualification__code",)
    search_help_text = "ULN (or its first digits) or qualification code."
    raw_id_fields = ("qualification",)


@admin.register(DASStatus)
class DASStatusAdmin(UlnSearchMixin, FeedRecordAdmin):
    list_display = ("uln", "component", "complete", "asl_glh_completed", "diploma_grade")
    list_filter = ("component", "complete")
    search_fields = ("=uln",)
    search_help_text = "ULN (or its first digits)."


@admin.register(DataChange)
class DataChangeAdmin(FeedRecordAdmin):
    """Each write of learner data in commit order: how "received since" is decided."""

    list_display = ("pk", "kind", "started_at", "committed", "wrote_every_entry")
    list_filter = ("kind", "wrote_every_entry")
    fields = ("kind", "started_at", "committed", "wrote_every_entry", "wrote_every_row_of")
    readonly_fields = fields


@admin.register(ChangedComponent)
class ChangedComponentAdmin(UlnSearchMixin, FeedRecordAdmin):
    """The learners' components each change wrote data for."""

    list_display = ("change", "uln", "component")
    list_filter = ("component",)
    search_fields = ("uln",)
    fields = ("change", "uln", "component")
    readonly_fields = fields


@admin.register(DeliveredFile)
class DeliveredFileAdmin(ReadOnlyAdmin):
    """The version of each learner file the last committed delivery brought: the same file
    again is not read. Written by import_feed, never changed by hand."""

    list_display = ("name", "sha256", "rows", "table_rows", "run")
    fields = ("name", "sha256", "checks", "rows", "table_rows", "run")
    readonly_fields = fields


def _listed(lines: list[str]) -> str:
    if not lines:
        return "None"
    return format_html("<ol>{}</ol>", format_html_join("", "<li>{}</li>", ((e,) for e in lines)))


@admin.register(ImportRun)
class ImportRunAdmin(ReadOnlyAdmin):
    """The record of each delivery: written by import_feed, never changed by hand."""

    list_display = ("started_at", "directory", "outcome", "progress", "error_count", "finished_at")
    list_filter = ("outcome",)
    search_fields = ("directory",)
    fields = (
        "started_at",
        "finished_at",
        "directory",
        "outcome",
        "progress",
        "error_count",
        "files",
        "row_counts",
        "errors_listed",
        "warnings_listed",
    )
    readonly_fields = fields

    @admin.display(description="progress")
    def progress(self, obj: ImportRun) -> str:
        """While it runs: the file it is on, rows done of how many, rate and time left, as
        the importing process last said (base.progress)."""
        if obj.outcome != ImportRun.Outcome.RUNNING:
            return "—"
        return said("import", obj.pk) or "Starting"

    @admin.display(description="errors")
    def errors_listed(self, obj: ImportRun) -> str:
        return _listed(obj.errors)

    @admin.display(description="warnings")
    def warnings_listed(self, obj: ImportRun) -> str:
        return _listed(obj.warnings)
