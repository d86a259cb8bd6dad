"""Accounts API: the caller's own account, and user administration (administrators only)."""
from __future__ import annotations

from flask import g
from flask.views import MethodView
from sqlalchemy import select

from core.auth import services
from core.auth.models import User
from core.auth.permissions import require
from core.auth.schemas import (PasswordChangeSchema, RevokedSchema, TemporaryPasswordSchema,
                               TokenRequestSchema, TokenSchema, UserCreateSchema, UserSchema,
                               UserUpdateSchema)
from core.extensions import Blueprint, db

blp = Blueprint("users", __name__, url_prefix="/api", description="Accounts")
ID = "<int(min=1, max=2147483647):user_id>"


@blp.route("/me")
class Me(MethodView):
    @blp.response(200, UserSchema)
    def get(self):
        """Show the calling user."""
        return services.get_user(db.session, g.user.id)  # the whole account, not the token's snapshot


@blp.route("/me/password")
class MyPassword(MethodView):
    @blp.arguments(PasswordChangeSchema)
    @blp.response(204)
    def post(self, data):
        """Change one's own password."""
        user = services.get_user(db.session, g.user.id)
        services.change_password(db.session, user, data["current_password"], data["new_password"])


@blp.route("/users")
class Users(MethodView):
    @require("administer")
    @blp.response(200, UserSchema(many=True))
    def get(self):
        """List users."""
        return db.session.scalars(select(User).order_by(User.id)).all()

    @require("administer")
    @blp.arguments(UserCreateSchema)
    @blp.response(201, UserSchema)
    def post(self, data):
        """Create a user with roles and a home region."""
        return services.create_user(db.session, data["username"], data["password"], data["roles"],
                                    data["region"], actor_id=g.user.id, full_name=data.get("full_name"))


@blp.route(f"/users/{ID}")
class UserResource(MethodView):
    @require("administer")
    @blp.response(200, UserSchema)
    def get(self, user_id: int):
        """Show a user."""
        return services.get_user(db.session, user_id)

    @require("administer")
    @blp.arguments(UserUpdateSchema, required=False)  # no body: nothing changes (as with {})
    @blp.response(200, UserSchema)
    def patch(self, data, user_id: int):
        """Change a user's full name, roles or region, or disable or re-enable the account."""
        return services.update_user(db.session, user_id, data, g.user.id)


@blp.route(f"/users/{ID}/password")
class UserPassword(MethodView):
    @require("administer")
    @blp.response(201, TemporaryPasswordSchema)
    def post(self, user_id: int):
        """Reset a user's password to a temporary one (shown once) that must be changed at sign-in."""
        return {"password": services.reset_password(db.session, user_id, g.user.id)}


@blp.route(f"/users/{ID}/tokens")
class UserTokens(MethodView):
    @require("administer")
    @blp.arguments(TokenRequestSchema, required=False)  # no body: the default lifetime
    @blp.response(201, TokenSchema)
    def post(self, data, user_id: int):
        """Issue an API token for a user (shown once)."""
        user = services.get_user(db.session, user_id)
        return {"token": services.issue_token(db.session, user.username, data["expires_days"], g.user.id)}

    @require("administer")
    @blp.response(200, RevokedSchema)
    def delete(self, user_id: int):
        """Revoke every live token of a user."""
        user = services.get_user(db.session, user_id)
        return {"revoked": services.revoke_tokens(db.session, user.username, g.user.id)}
