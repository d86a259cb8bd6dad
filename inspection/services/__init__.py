"""Inspection use cases: functions that take a session and return data."""
