from __future__ import annotations

from django.urls import path

from . import mopi_urls, performance_urls, review_urls, views

app_name = "supervision"

urlpatterns: list = [
    # The supervisor's home, queues, workload, allocation and leavers (supervision/views.py).
    path("supervision/", views.home, name="home"),
    path("supervision/queues/<slug:slug>/", views.queue, name="queue"),
    path("supervision/workload/", views.workload_page, name="workload"),
    path("supervision/allocate/<str:urn>/", views.allocate, name="allocate"),
    path("supervision/leavers/", views.leavers_page, name="leavers"),
    path("supervision/leavers/<int:officer_id>/", views.leaver_checklist, name="leaver"),
    # Every officer's notifications, and the unread badge in the page header.
    path("notifications/", views.notifications, name="notifications"),
    path("notifications/read/", views.notifications_mark_read, name="notifications_read"),
    path("notifications/badge/", views.notifications_badge, name="notifications_badge"),
]

# Supervisory reviews and closure (supervision/review_views.py).
urlpatterns += review_urls.urlpatterns

# Performance measures, drill-downs and charts (supervision/performance_views.py).
urlpatterns += performance_urls.urlpatterns

# Information management (MoPI) reviews of closed referrals (supervision/mopi_views.py).
urlpatterns += mopi_urls.urlpatterns
