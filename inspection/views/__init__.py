"""Thin API views of the inspection package (flask-smorest blueprints)."""
from inspection.views.batches import blp as batches_blp
from inspection.views.enterprises import blp as enterprises_blp
from inspection.views.stats import blp as stats_blp

blueprints = (batches_blp, enterprises_blp, stats_blp)
