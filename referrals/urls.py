from __future__ import annotations

from django.urls import path

from . import import_urls, investigation_views, views

app_name = "referrals"

urlpatterns = [
    path("referrals/", views.referral_list, name="list"),
    path("referrals/desk/", views.referral_desk, name="desk"),
    path("referrals/new/", views.referral_create, name="create"),
    path("referrals/new/matches/", views.person_matches_partial, name="person_matches"),
    path("referrals/<str:urn>/", views.case_page, name="case"),
    path("referrals/<str:urn>/assess/", views.referral_assess, name="assess"),
    path("referrals/<str:urn>/allocate/", views.referral_allocate, name="allocate"),
    path("referrals/<str:urn>/log/", views.case_log_add, name="log_add"),
    path("referrals/<str:urn>/log/correct/", views.case_log_correct, name="log_correct"),
    path("referrals/<str:urn>/written-referral/", views.written_followup, name="written_followup"),
    path("referrals/<str:urn>/social-services-update/", views.social_services_update,
         name="social_services_update"),
    path("referrals/<str:urn>/actions/new/", views.action_add, name="action_add"),
    path("referrals/<str:urn>/actions/<int:action_id>/finish/", views.action_finish, name="action_finish"),
    # The investigation tab: joint visit, outcome, requests for disclosure (referrals/investigation_views.py).
    path("referrals/<str:urn>/investigation/", investigation_views.investigation_tab, name="investigation"),
    path("referrals/<str:urn>/joint-visit/", investigation_views.joint_visit, name="joint_visit"),
    path("referrals/<str:urn>/outcome/", investigation_views.outcome, name="outcome"),
    path("referrals/<str:urn>/disclosure-requests/", investigation_views.disclosure_add, name="disclosure_add"),
    path("referrals/<str:urn>/disclosure-requests/<int:request_id>/response/", investigation_views.disclosure_respond,
         name="disclosure_respond"),
    path("people/<int:person_id>/", views.person_detail, name="person"),
    path("search/", views.search, name="search"),
]

# The legacy referral-log import for administrators (referrals/import_views.py).
urlpatterns += import_urls.urlpatterns
