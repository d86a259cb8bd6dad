"""The shared ground: extensions, model base, errors, reference trees, accounts, jobs.

Imports no domain package.
"""
