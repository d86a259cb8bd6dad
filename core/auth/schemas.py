"""Schemas of the accounts API."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from core.auth.models import ROLES
from core.fields import JsonBoolean

Roles = lambda **kw: fields.List(fields.String(validate=validate.OneOf(ROLES)),  # noqa: E731
                                 validate=validate.Length(min=1, max=len(ROLES)),
                                 metadata={"example": ["inspector"]}, **kw)

Region = lambda **kw: fields.String(validate=validate.Length(equal=6),  # noqa: E731
                                    metadata={"description": "Home region (GB/T 2260 code)", "example": "330106"}, **kw)


class UserSchema(Schema):
    id = fields.Integer()
    username = fields.String()
    full_name = fields.String(allow_none=True)
    roles = fields.Function(lambda u: sorted(u.roles))
    region = fields.String(attribute="region_code")
    active = fields.Boolean()
    must_change_password = fields.Boolean(metadata={
        "description": "true after an administrator's reset, until the user chooses a new password"})
    created_at = fields.DateTime()


class UserCreateSchema(Schema):
    username = fields.String(required=True, validate=validate.Length(min=1, max=64),
                             metadata={"example": "xihu-inspector"})
    password = fields.String(required=True, load_only=True, validate=validate.Length(min=8, max=256),
                             metadata={"example": "correct horse battery"})
    roles = Roles(required=True)
    region = Region(required=True)
    full_name = fields.String(allow_none=True, validate=validate.Length(max=64),
                              metadata={"description": "The person's name as records name them; blank or null: none",
                                        "example": "王强"})


class UserUpdateSchema(Schema):
    full_name = fields.String(allow_none=True, validate=validate.Length(max=64),
                              metadata={"description": "The person's name as records name them; blank or null: none",
                                        "example": "王强"})
    roles = Roles()
    region = Region()
    active = JsonBoolean(metadata={"description": "false disables the account (its tokens stop working); "
                                                  "true re-enables it", "example": True})


class PasswordChangeSchema(Schema):
    current_password = fields.String(required=True, load_only=True, validate=validate.Length(max=256),
                                     metadata={"example": "correct horse battery"})
    new_password = fields.String(required=True, load_only=True, validate=validate.Length(min=8, max=256),
                                 metadata={"example": "correct horse battery staple"})


class TokenRequestSchema(Schema):
    expires_days = fields.Integer(load_default=90, validate=validate.Range(1, 3650), metadata={"example": 30})


class TokenSchema(Schema):
    token = fields.String(metadata={"description": "Shown once; only its SHA-256 digest is stored"})


class TemporaryPasswordSchema(Schema):
    password = fields.String(metadata={
        "description": "Shown once; the user signs in with it and must then choose a new one"})


class RevokedSchema(Schema):
    revoked = fields.Integer()
