"""GET /api/regions and /api/categories (the reference trees as flat arrays); /api/floors."""
from __future__ import annotations

from flask import g
from flask.views import MethodView
from marshmallow import Schema, fields, validate

from core.auth.permissions import require
from core.clock import local_today
from core.extensions import Blueprint, db
from core.reference.floors import list_floors, set_floor
from core.reference.trees import load_trees

blp = Blueprint("reference", __name__, url_prefix="/api", description="Regions and product categories")


class NodeSchema(Schema):
    code = fields.String(required=True)
    parent_code = fields.String(allow_none=True)
    level = fields.Integer(required=True)
    name_zh = fields.String(required=True)
    name_en = fields.String(required=True)


class CategorySchema(NodeSchema):
    floor = fields.Float(allow_none=True, metadata={"description": "Floor in force on the date asked"})


class OnDateArgs(Schema):
    on = fields.Date(metadata={"description": "Date the floors apply to (YYYY-MM-DD); default today",
                               "example": "2025-03-10"})


@blp.route("/regions")
class Regions(MethodView):
    @require("read")
    @blp.response(200, NodeSchema(many=True))
    def get(self):
        """List every region (GB/T 2260), province first."""
        return sorted(load_trees(db.session).regions.nodes.values(), key=lambda n: n.code)


@blp.route("/categories")
class Categories(MethodView):
    @require("read")
    @blp.arguments(OnDateArgs, location="query")
    @blp.response(200, CategorySchema(many=True))
    def get(self, args):
        """List every product category with the floor in force on a date."""
        trees = load_trees(db.session)
        on = args.get("on") or local_today()
        return [{**n.__dict__, "floor": trees.floors.effective(n.code, on)}
                for n in sorted(trees.categories.nodes.values(), key=lambda n: n.code)]


class FloorArgs(Schema):
    category = fields.String(validate=validate.Length(min=1, max=96),
                             metadata={"description": "Category code, or * for all products", "example": "food"})


class FloorSchema(Schema):
    id = fields.Integer(dump_only=True)
    category = fields.String(attribute="category_code", required=True, validate=validate.Length(min=1, max=96),
                             metadata={"description": "Category code, or * for all products", "example": "food"})
    floor = fields.Float(required=True, validate=validate.Range(0, 1, min_inclusive=False),
                         metadata={"description": "Fraction, e.g. 0.94", "example": 0.94})
    effective_from = fields.Date(required=True, metadata={"example": "2027-01-01"})
    note = fields.String(allow_none=True, validate=validate.Length(max=255),
                         metadata={"example": "provincial target raised for 2027"})
    created_at = fields.DateTime(dump_only=True)
    created_by_id = fields.Integer(dump_only=True, allow_none=True)


@blp.route("/floors")
class Floors(MethodView):
    @require("read")
    @blp.arguments(FloorArgs, location="query")
    @blp.response(200, FloorSchema(many=True))
    def get(self, args):
        """List the dated target floors, oldest first."""
        return list_floors(db.session, args.get("category"))

    @require("administer")
    @blp.arguments(FloorSchema)
    @blp.response(201, FloorSchema)
    def post(self, data):
        """Set a target floor in force from a date on (earlier figures keep the old floor)."""
        return set_floor(db.session, data["category_code"], data["floor"], data["effective_from"],
                         data.get("note"), g.user.id)
