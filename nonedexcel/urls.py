from django.urls import path

from . import views

urlpatterns = [
    path("nonedexcel/", views.qualification_list, name="nonedexcel_list"),
    path("nonedexcel/template.csv", views.template_csv, name="nonedexcel_template"),
    path("nonedexcel/upload/", views.upload, name="nonedexcel_upload"),
    path("nonedexcel/upload/<uuid:upload_id>/", views.preview, name="nonedexcel_preview"),
    path("nonedexcel/upload/<uuid:upload_id>/confirm/", views.confirm, name="nonedexcel_confirm"),
]
