"""The snapshot in the admin, read-only: support can see whether last night's build ran."""

from django.contrib import admin
from django.db.models import Count, Q, Sum

from accounts.admin import ReadOnlyAdmin
from learners.admin import CentreNumberFilter, FeedRecordAdmin, UlnSearchMixin

from .models import DetailLine, OverviewRow, RebuildRun, RebuildShard, SnapshotChange
from .snapshot import describe_progress, shard_counts


@admin.register(RebuildRun)
class RebuildRunAdmin(ReadOnlyAdmin):
    list_display = (
        "started_at",
        "finished_at",
        "built_for",
        "outcome",
        "progress",
        "learners",
        "not_checked",
        "error",
    )
    list_filter = ("outcome",)
    date_hierarchy = "started_at"
    readonly_fields = ("progress",)

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                shard_count=Count("shards"),
                shards_done=Count("shards", filter=Q(shards__done=True)),
                learners_done=Sum("shards__learners", filter=Q(shards__done=True)),
            )
        )

    @admin.display(description="Progress")
    def progress(self, run: RebuildRun) -> str:
        """Shards built, learners, rate and time left, as the workers commit each shard."""
        if hasattr(run, "shard_count"):
            counts = (run.shard_count, run.shards_done, run.learners_done or 0)
        else:
            counts = shard_counts(run.pk)
        return describe_progress(run, *counts) if counts[0] else "—"


@admin.register(RebuildShard)
class RebuildShardAdmin(ReadOnlyAdmin):
    """Which worker's share of a rebuild is done: a pending shard of a running run is being
    built, or waits for a worker; one that failed says how often and why."""

    list_display = (
        "run",
        "number",
        "after_uln",
        "upto_uln",
        "done",
        "learners",
        "attempts",
        "finished_at",
    )
    list_filter = ("done",)
    list_select_related = ("run",)


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
