"""Evaluation simulator for the early warning: monthly batches per leaf series with a known
true rate at every level of both trees, and a committed scenario mix (see README.md)."""
from bench.warning.simulator import (DEFAULT, SMALL, SimConfig, SimResult, aggregate,
                                     below_within, simulate, volume_band)

__all__ = ["DEFAULT", "SMALL", "SimConfig", "SimResult", "aggregate", "below_within",
           "simulate", "volume_band"]
