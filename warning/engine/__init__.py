"""The pure early-warning engine: series aggregates in, one assessment per series out.

No Flask, no database: callers build a `Panel` (n and failed per series and month, the
floors and the two trees' parents) and call `assess(panel, settings, model)`.

Modules: `panel` (the data), `pooling` (empirical-Bayes shrinkage over the hierarchy),
`trend` (vectorised weighted logistic trend + seasonality, IRLS for all series at once),
`risk` (probability below the floor within the horizon; the optional scikit-learn
calibrated classifier), `levels` and `reasons` (warning levels, plain-language text),
`assess` (everything together).
"""
from warning.engine.panel import Panel, panel_from_long
from warning.engine.settings import DEFAULT_SETTINGS, Settings
from warning.engine.assess import assess, features

__all__ = ["Panel", "panel_from_long", "Settings", "DEFAULT_SETTINGS", "assess", "features"]
