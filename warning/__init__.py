"""Early warning: the pure engine, scans, alerts and notifications (built in the next issue).

It reads the inspection package's series aggregate; inspection never imports warning.
"""
