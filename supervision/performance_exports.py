"""Exports of the performance measure tables and drill-downs, registered with cram_site.exports."""
from __future__ import annotations
