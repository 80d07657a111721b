from django.contrib import admin
from django.urls import include, path

from learners.views import pages, search, unmatched

urlpatterns = [
    path("", include("accounts.urls")),
    path("search/", search.search, name="search"),
    path(
        "centres/<str:number>/unmatched/",
        unmatched.unmatched_entries,
        name="unmatched_entries",
    ),
    path("health/", pages.health, name="health"),
    path("contact/", pages.contact, name="contact"),
    path("admin/", admin.site.urls),
]
