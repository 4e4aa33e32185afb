from __future__ import annotations

from django.urls import path

from . import views

app_name = "risk"

urlpatterns = [
    path("referrals/<str:urn>/cram/", views.cram_tab, name="cram"),
    path("referrals/<str:urn>/cram/new/", views.assessment_start, name="start"),
    path("referrals/<str:urn>/cram/<int:number>/", views.assessment_page, name="assessment"),
    path("referrals/<str:urn>/cram/<int:number>/suggest/", views.assessment_suggest, name="suggest"),
    path("referrals/<str:urn>/cram/<int:number>/sign-off/", views.assessment_sign_off, name="sign_off"),
    path("referrals/<str:urn>/checks/", views.checks_tab, name="checks"),
    path("cram/catalogue/", views.catalogue, name="catalogue"),
    path("cram/catalogue/new/", views.catalogue_factor, name="factor_add"),
    path("cram/catalogue/<slug:code>/", views.catalogue_factor, name="factor"),
]
