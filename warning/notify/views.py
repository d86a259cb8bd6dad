"""Notification API: one's subscriptions, administrators' webhooks, and the outbox status."""
from __future__ import annotations

from flask import g
from flask.views import MethodView

from core.auth.permissions import require, scope_of
from core.extensions import Blueprint, db
from warning.notify import services
from warning.notify.schemas import (OutboxListArgs, OutboxSchema, SubscriptionCreateSchema, SubscriptionSchema,
                                    SubscriptionUpdateSchema, WebhookCreatedSchema, WebhookCreateSchema,
                                    WebhookSchema, WebhookUpdateSchema)
from warning.schemas import PageArgs

blp = Blueprint("notifications", __name__, url_prefix="/api",
                description="Alert notifications: subscriptions, webhooks, outbox")
SUB_ID = "<int(min=1, max=2147483647):sub_id>"
HOOK_ID = "<int(min=1, max=2147483647):hook_id>"


def _is_admin() -> bool:
    return "admin" in g.user.roles


@blp.route("/subscriptions")
class Subscriptions(MethodView):
    @require("triage")
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, SubscriptionSchema(many=True))
    def get(self, args):
        """List your subscriptions (administrators: everyone's)."""
        return services.list_subscriptions(db.session, g.user.id, _is_admin(), args["limit"], args["offset"])

    @require("triage")
    @blp.arguments(SubscriptionCreateSchema)
    @blp.response(201, SubscriptionSchema)
    def post(self, data):
        """Subscribe to alerts in a region subtree and category subtree from a lowest level up."""
        return services.create_subscription(db.session, data, g.user.id, scope_of(g.user))


@blp.route(f"/subscriptions/{SUB_ID}", parameters=[{"in": "path", "name": "sub_id", "example": 1}])
class SubscriptionResource(MethodView):
    @require("triage")
    @blp.response(200, SubscriptionSchema)
    def get(self, sub_id: int):
        """Show one of your subscriptions."""
        return services.get_subscription(db.session, sub_id, g.user.id, _is_admin())

    @require("triage")
    @blp.arguments(SubscriptionUpdateSchema)
    @blp.response(200, SubscriptionSchema)
    def patch(self, data, sub_id: int):
        """Change a subscription's address, filters, or active flag."""
        return services.update_subscription(db.session, sub_id, data, g.user.id, _is_admin(), scope_of(g.user))

    @require("triage")
    @blp.response(200, SubscriptionSchema)
    def delete(self, sub_id: int):
        """Deactivate a subscription (it is kept, inactive, for the record)."""
        return services.update_subscription(db.session, sub_id, {"active": False}, g.user.id, _is_admin(),
                                            scope_of(g.user), action="deactivate")


@blp.route("/webhooks")
class Webhooks(MethodView):
    @require("administer")
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, WebhookSchema(many=True))
    def get(self, args):
        """List webhooks (their secrets are never shown)."""
        return services.list_webhooks(db.session, args["limit"], args["offset"])

    @require("administer")
    @blp.arguments(WebhookCreateSchema)
    @blp.response(201, WebhookCreatedSchema)
    def post(self, data):
        """Register a webhook; the answer carries its signing secret, shown this once."""
        return services.create_webhook(db.session, data, g.user.id)


@blp.route(f"/webhooks/{HOOK_ID}", parameters=[{"in": "path", "name": "hook_id", "example": 1}])
class WebhookResource(MethodView):
    @require("administer")
    @blp.response(200, WebhookSchema)
    def get(self, hook_id: int):
        """Show a webhook."""
        return services.get_webhook(db.session, hook_id)

    @require("administer")
    @blp.arguments(WebhookUpdateSchema)
    @blp.response(200, WebhookSchema)
    def patch(self, data, hook_id: int):
        """Change a webhook's URL, filters, secret or active flag."""
        return services.update_webhook(db.session, hook_id, data, g.user.id)

    @require("administer")
    @blp.response(200, WebhookSchema)
    def delete(self, hook_id: int):
        """Deactivate a webhook (it is kept, inactive, for the record)."""
        return services.update_webhook(db.session, hook_id, {"active": False}, g.user.id, action="deactivate")


@blp.route("/notifications")
class Notifications(MethodView):
    @require("administer")
    @blp.arguments(OutboxListArgs, location="query")
    @blp.response(200, OutboxSchema(many=True))
    def get(self, args):
        """List the outbox, newest first: what was sent, what waits and why."""
        return services.list_outbox(db.session, args.get("status"), args["limit"], args["offset"])
