"""Queues, reminders and supervisory reviews: reads every other app, imported by none."""
