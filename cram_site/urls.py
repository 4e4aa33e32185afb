from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("accounts/login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("exports/", include("cram_site.export_urls")),
    path("audit/", include("cram_site.audit_urls")),
    path("", include("referrals.urls")),
    path("", include("risk.urls")),
    path("", include("conferences.urls")),
    path("", include("supervision.urls")),
]
