"""Notifications of alerts: subscriptions, webhooks, the outbox and its delivery."""
