from __future__ import annotations

from django.urls import path  # noqa: F401  (queue and workload addresses are added here)

from . import review_urls

app_name = "supervision"

urlpatterns: list = []

# Supervisory reviews and closure (supervision/review_views.py).
urlpatterns += review_urls.urlpatterns
