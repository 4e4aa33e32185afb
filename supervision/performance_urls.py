"""Addresses of the performance dashboard, its drill-downs and charts; added to supervision/urls.py (namespace "supervision")."""
from __future__ import annotations

from django.urls import path

from . import performance_views

urlpatterns: list = [
    # The measures by month, with a trend chart of each (supervision.view_performance).
    path("performance/", performance_views.dashboard, name="performance"),
    # The records behind one figure: performance/joint-visits/2026-03/?team=HY&group=…&to=2026-05
    path("performance/<slug:slug>/<str:month>/", performance_views.drill, name="performance_drill"),
]
