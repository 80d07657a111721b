from django.contrib import admin
from django.urls import include, path

from learners import views as learner_views

urlpatterns = [
    path("", learner_views.home, name="home"),
    path("health/", learner_views.health, name="health"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
]
