"""GET /api/regions and /api/categories: the reference trees as flat arrays."""
from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from core.auth.permissions import require
from core.clock import local_today
from core.extensions import db
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
