"""The snapshot in the admin, read-only: support can see whether last night's build ran."""

from django.contrib import admin

from accounts.admin import ReadOnlyAdmin
from learners.admin import CentreNumberFilter, FeedRecordAdmin, UlnSearchMixin

from .models import DetailLine, OverviewRow, RebuildRun, SnapshotChange


@admin.register(RebuildRun)
class RebuildRunAdmin(ReadOnlyAdmin):
    list_display = (
        "started_at",
        "finished_at",
        "built_for",
        "outcome",
        "learners",
        "not_checked",
        "error",
    )
    list_filter = ("outcome",)
    date_hierarchy = "started_at"


@admin.register(OverviewRow)
class OverviewRowAdmin(UlnSearchMixin, FeedRecordAdmin):
    list_display = ("run", "uln", "centre_id", "surname", "forename", "level", "problems")
    list_filter = (CentreNumberFilter,)
    search_fields = ("=uln",)


@admin.register(DetailLine)
class DetailLineAdmin(UlnSearchMixin, FeedRecordAdmin):
    list_display = ("run", "uln", "centre_id", "component", "element", "severity", "deadline")
    list_filter = (CentreNumberFilter,)
    search_fields = ("=uln",)


@admin.register(SnapshotChange)
class SnapshotChangeAdmin(UlnSearchMixin, FeedRecordAdmin):
    list_display = ("changed_on", "uln", "centre_id", "component", "kind", "before", "after")
    list_filter = ("kind", CentreNumberFilter)
    search_fields = ("=uln",)
