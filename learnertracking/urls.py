from django.contrib import admin
from django.urls import include, path

from learners import views as learner_views

urlpatterns = [
    path("", include("accounts.urls")),
    path("health/", learner_views.health, name="health"),
    path("contact/", learner_views.contact, name="contact"),
    path("admin/", admin.site.urls),
]
