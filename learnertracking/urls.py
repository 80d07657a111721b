from django.contrib import admin
from django.urls import include, path

from screens.views import (
    awards,
    calendar,
    changes,
    cohort,
    home,
    notifications,
    pages,
    record,
    search,
    unmatched,
)
from screens.views import help as help_views

urlpatterns = [
    path("", home.home, name="home"),
    path("", include("accounts.urls")),
    path("", include("nonedexcel.urls")),
    path("", include("support.urls")),
    path("overview/", cohort.overview, name="overview"),
    path("overview/export.csv", cohort.overview_export, name="overview_export"),
    path("overview/award-date/", awards.bulk_award_date, name="bulk_award_date"),
    path("overview/award-date/file/", awards.award_file, name="bulk_award_file"),
    path("detail/", cohort.detail, name="detail"),
    path("detail/export.csv", cohort.detail_export, name="detail_export"),
    path("calendar/", calendar.calendar_link, name="calendar_link"),
    path("calendar/<str:token>.ics", calendar.calendar_feed, name="calendar_feed"),
    path("changes/", changes.changes, name="changes"),
    path("notifications/", notifications.notifications, name="notifications"),
    path("notifications/digest/", notifications.digest_preview, name="digest_preview"),
    path("changes/export.csv", changes.changes_export, name="changes_export"),
    path("search/", search.search, name="search"),
    path("learners/<str:uln>/", record.learner_record, name="learner_record"),
    path("learners/<str:uln>/award-date/", record.edit_award_date, name="edit_award_date"),
    path("learners/<str:uln>/non-edexcel/", record.add_for_learner, name="nonedexcel_add"),
    path(
        "learners/<str:uln>/non-edexcel/<int:item_id>/remove/",
        record.remove_for_learner,
        name="nonedexcel_remove",
    ),
    path(
        "centres/<str:number>/unmatched/",
        unmatched.unmatched_entries,
        name="unmatched_entries",
    ),
    path("health/", pages.health, name="health"),
    path("contact/", pages.contact, name="contact"),
    path("help/", help_views.help_page, name="help"),
    path("admin/", admin.site.urls),
]

# A database outage gets a 503 "try again" page; any other failure the plain 500 page.
handler500 = "learnertracking.errors.server_error"
