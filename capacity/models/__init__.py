"""Queueing and scalability models: pure functions of numbers and arrays, no I/O.

* :mod:`capacity.models.erlang` -- M/M/c (Erlang B/C, wait and response distributions, sizing).
* :mod:`capacity.models.ggc` -- G/G/c (Allen–Cunneen, Kingman for c = 1, approximate percentiles).
* :mod:`capacity.models.fluid` -- overload and time-varying load (backlog, exhaustion, drain).
* :mod:`capacity.models.usl` -- Universal Scalability Law fit with confidence intervals.

Times are in seconds, rates per second. Invalid parameters raise
:class:`capacity.errors.ConfigError`; data that cannot support a fit raise
:class:`capacity.errors.FitError`.
"""

from capacity.models.erlang import (
    MMc,
    erlang_b,
    erlang_c,
    min_servers,
    mmc,
    response_percentile,
    response_tail,
    wait_percentile,
    wait_tail,
)
from capacity.models.fluid import (
    FluidPath,
    SurgeOutcome,
    backlog_trajectory,
    consumers_to_drain,
    max_surge_duration,
    psa_response_percentile,
    surge_outcome,
    time_to_exhaust,
)
from capacity.models.ggc import GGc, ggc, ggc_response_percentile, ggc_wait_percentile
from capacity.models.usl import USLFit, fit_usl, usl_throughput

__all__ = [
    "FluidPath",
    "GGc",
    "MMc",
    "SurgeOutcome",
    "USLFit",
    "backlog_trajectory",
    "consumers_to_drain",
    "erlang_b",
    "erlang_c",
    "fit_usl",
    "ggc",
    "ggc_response_percentile",
    "ggc_wait_percentile",
    "max_surge_duration",
    "min_servers",
    "mmc",
    "psa_response_percentile",
    "response_percentile",
    "response_tail",
    "surge_outcome",
    "time_to_exhaust",
    "usl_throughput",
    "wait_percentile",
    "wait_tail",
]
