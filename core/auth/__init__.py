"""Accounts: users with roles and a home region, API tokens, request authentication."""
