"""Pass-rate statistics API, as JSON or as a CSV/XLSX download."""
from __future__ import annotations

from flask import g
from flask.views import MethodView

from core.auth.permissions import require, scope_of
from core.export import download
from core.extensions import Blueprint
from core.fast_dump import json_response
from core.replica import statistics_session
from inspection.schemas import CSV_MEDIA_TYPE, XLSX_MEDIA_TYPE, PassRateArgs, PassRateSchema
from inspection.services.stats import RATE_COLUMNS, RateQuery, pass_rates

blp = Blueprint("stats", __name__, url_prefix="/api/stats", description="Pass-rate statistics")


@blp.route("/pass-rates")
class PassRates(MethodView):
    @require("read")
    @blp.arguments(PassRateArgs(), location="query")  # an instance: a class is instantiated per request
    @blp.response(200, PassRateSchema(many=True))
    @blp.alt_response(200, schema={"type": "string"}, content_type=CSV_MEDIA_TYPE,
                      description="Pass rates; a CSV or XLSX download when format=csv or xlsx")
    @blp.alt_response(200, schema={"type": "string", "format": "binary"}, content_type=XLSX_MEDIA_TYPE)
    def get(self, args):
        """Pass rates by category x region x period against their floors (Wilson 95% interval)."""
        fmt = args.pop("format")
        query = RateQuery(category=args.get("category"), region=args.get("region"), period=args["period"],
                          from_month=args.get("from_"), to_month=args.get("to"),
                          breakdown=args["breakdown"], origin=args["origin"])
        with statistics_session() as session:
            rows = pass_rates(session, query, scope_of(g.user))
        if fmt != "json":
            return download(RATE_COLUMNS, ([r[c] for c in RATE_COLUMNS] for r in rows), fmt, "pass-rates")
        # The rows are the schema's output already (plain JSON values under its field names;
        # tests/test_hot_paths.py holds them to it): dumping them again cost a third of the request.
        return json_response(rows, keys_sorted=True)  # pass_rates builds them so
