"""Non-Edexcel records in the admin, read-only: they change on the ILR or by bulk upload,
which audit every change."""

from django.contrib import admin

from accounts.admin import ReadOnlyAdmin
from learners.admin import LearnerDataAdmin

from .models import NonEdexcelQualification, PendingUpload


@admin.register(NonEdexcelQualification)
class NonEdexcelQualificationAdmin(LearnerDataAdmin):
    list_display = ("learner", "qan", "component", "awarding_body", "added_by", "added_at")
    list_filter = ("component",)
    list_select_related = ("learner", "added_by")
    search_fields = ("=learner__uln", "qan", "awarding_body")


@admin.register(PendingUpload)
class PendingUploadAdmin(ReadOnlyAdmin):
    list_display = ("filename", "user", "created_at", "confirmed_at", "rows_added")
    list_select_related = ("user",)
    # Not the file itself: learners' details, and up to 2 MB of it.
    exclude = ("content", "checked")
