"""Read throughput-vs-concurrency data for the USL fit (``concurrency,throughput`` CSV)."""

from __future__ import annotations

import os
from typing import IO

import numpy as np
import pandas as pd

from capacity.errors import ConfigError
from capacity.models.usl import USLFit, fit_usl


def read_usl_csv(fp: IO[str] | str | os.PathLike[str]) -> tuple[np.ndarray, np.ndarray]:
    name = getattr(fp, "name", fp)
    try:
        df = pd.read_csv(fp)
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError) as e:
        raise ConfigError(f"Cannot read {str(name)!r} as CSV ({e}); it needs columns concurrency,throughput.") from e
    missing = [c for c in ("concurrency", "throughput") if c not in df.columns]
    if missing:
        raise ConfigError(f"{str(name)!r} lacks column(s) {missing}; the header must be concurrency,throughput.")
    data = df[["concurrency", "throughput"]].apply(pd.to_numeric, errors="coerce")
    bad = data.isna().any(axis=1)
    if bad.any():
        raise ConfigError(f"{str(name)!r} row {int(bad.idxmax()) + 2} is not numeric; fix or remove it.")
    return data["concurrency"].to_numpy(float), data["throughput"].to_numpy(float)


def usl_summary(fit: USLFit) -> dict[str, object]:
    def num(x: float) -> float | None:
        return None if not np.isfinite(x) else float(x)

    return {
        "sigma": fit.sigma, "kappa": fit.kappa, "lambda": fit.lam,
        "se": {"sigma": fit.se_sigma, "kappa": fit.se_kappa, "lambda": fit.se_lam},
        "ci": {"sigma": list(fit.ci_sigma), "kappa": list(fit.ci_kappa), "lambda": list(fit.ci_lam)},
        "level": fit.level, "r_squared": fit.r_squared, "n_points": fit.n_points,
        "peak_concurrency": num(fit.peak_concurrency), "max_throughput": num(fit.max_throughput),
        "at_bound": list(fit.at_bound),
    }


def fit_usl_file(path: str | os.PathLike[str], level: float = 0.95) -> USLFit:
    n, x = read_usl_csv(path)
    return fit_usl(n, x, level=level)
