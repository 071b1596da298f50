"""Universal Scalability Law (Gunther): throughput versus concurrency, with honest intervals.

::

    X(n) = lam * n / (1 + sigma * (n - 1) + kappa * n * (n - 1))

``lam`` is the throughput of a single worker (per second), ``sigma`` the contention
(serialisation) and ``kappa`` the coherency (crosstalk) coefficient. With ``kappa > 0``
the throughput peaks at ``n* = sqrt((1 - sigma) / kappa)`` and then goes retrograde;
with ``kappa == 0`` it is Amdahl's law, approaching ``lam / sigma``.

:func:`fit_usl` is a bounded non-linear least-squares fit (``sigma`` in [0, 1], ``kappa``
in [0, 1), ``lam > 0``) of the throughput itself, the same objective as the R package
``usl`` (Moeding), with standard errors from the Jacobian at the optimum
(``cov = s^2 (J^T J)^-1``, ``s^2 = RSS / (n - 3)``) and Wald intervals from the
t-distribution with ``n - 3`` degrees of freedom.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, overload

import numpy as np
import numpy.typing as npt
from scipy import optimize, stats

from capacity.errors import ConfigError, FitError
from capacity.models.erlang import _check_real, _check_real_open

__all__ = ["USLFit", "fit_usl", "usl_throughput"]

FloatArray = npt.NDArray[np.float64]
_NAMES = ("sigma", "kappa", "lam")
# kappa in [0, 1): the closed upper bound handed to the optimiser sits just below 1.
_KAPPA_MAX = 1.0 - 1e-9


def _model(n: FloatArray, sigma: float, kappa: float, lam: float) -> FloatArray:
    return lam * n / (1.0 + sigma * (n - 1.0) + kappa * n * (n - 1.0))


def _jacobian(n: FloatArray, sigma: float, kappa: float, lam: float) -> FloatArray:
    """d X / d(sigma, kappa, lam), one row per point."""
    den = 1.0 + sigma * (n - 1.0) + kappa * n * (n - 1.0)
    x = lam * n / den
    return np.column_stack([-x * (n - 1.0) / den, -x * n * (n - 1.0) / den, n / den])


@overload
def usl_throughput(n: float, sigma: float, kappa: float, lam: float) -> float: ...


@overload
def usl_throughput(n: npt.NDArray[Any], sigma: float, kappa: float, lam: float) -> FloatArray: ...


def usl_throughput(n: float | npt.NDArray[Any], sigma: float, kappa: float, lam: float) -> float | FloatArray:
    """``X(n) = lam * n / (1 + sigma*(n - 1) + kappa*n*(n - 1))`` for a number or an array ``n``."""
    s = _check_real("sigma", sigma, hint="the contention coefficient, usually in [0, 1]")
    k = _check_real("kappa", kappa, hint="the coherency coefficient")
    lam_f = _check_real("lam", lam, strict=True, hint="the single-worker throughput per second")
    n_a = np.asarray(n, dtype=float)
    if not np.all(np.isfinite(n_a)) or np.any(n_a < 0.0):
        raise ConfigError(f"concurrency n must be finite and >= 0, got {n!r}.")
    x = _model(n_a, s, k, lam_f)
    if n_a.ndim == 0:
        return float(x)
    return x


@dataclass(frozen=True)
class USLFit:
    """A fitted Universal Scalability Law.

    Attributes:
        sigma, kappa, lam: the estimates.
        se_sigma, se_kappa, se_lam: standard errors (Jacobian at the optimum).
        ci_sigma, ci_kappa, ci_lam: two-sided ``level`` confidence intervals
            ``estimate -/+ t_{(1+level)/2, n-3} * se`` (not clipped to the bounds; an
            interval for a parameter listed in ``at_bound`` is only indicative).
        level: confidence level of the intervals.
        r_squared: ``1 - RSS/TSS`` on the throughput scale.
        n_points: number of data points.
        peak_concurrency: ``sqrt((1 - sigma)/kappa)``, ``inf`` when ``kappa == 0``.
        max_throughput: ``X(peak_concurrency)``; for ``kappa == 0`` the Amdahl asymptote
            ``lam/sigma`` (never reached), ``inf`` if ``sigma == kappa == 0`` too.
        at_bound: names of the parameters that sit at a bound of the fit (e.g.
            ``["kappa"]`` when the data show no retrograde trend).
        residual_std: ``s = sqrt(RSS / (n - 3))``, in throughput units.
    """

    sigma: float
    kappa: float
    lam: float
    se_sigma: float
    se_kappa: float
    se_lam: float
    ci_sigma: tuple[float, float]
    ci_kappa: tuple[float, float]
    ci_lam: tuple[float, float]
    level: float
    r_squared: float
    n_points: int
    peak_concurrency: float
    max_throughput: float
    at_bound: list[str]
    residual_std: float = math.nan

    def throughput(self, n: float) -> float:
        """Predicted throughput at concurrency ``n``."""
        return usl_throughput(n, self.sigma, self.kappa, self.lam)


def _check_data(concurrency: npt.ArrayLike, throughput: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    try:
        n = np.array(concurrency, dtype=float)
        x = np.array(throughput, dtype=float)
    except (TypeError, ValueError) as exc:
        raise FitError(f"concurrency and throughput must be arrays of numbers ({exc}).") from exc
    if n.ndim != 1 or x.shape != n.shape:
        raise FitError(
            f"concurrency and throughput must be 1-D arrays of the same length, got shapes {n.shape} and {x.shape}."
        )
    if n.size < 4:
        raise FitError(
            f"A USL fit needs at least 4 (concurrency, throughput) points, got {n.size}; "
            "measure more concurrency levels."
        )
    if not (np.all(np.isfinite(n)) and np.all(np.isfinite(x))):
        raise FitError("concurrency and throughput must be finite numbers; drop missing measurements.")
    if np.any(n <= 0.0) or np.any(x <= 0.0):
        raise FitError(
            "A USL fit needs positive concurrency and throughput values; found a value <= 0 "
            "(drop idle or failed measurements)."
        )
    if np.unique(n).size < 3:
        raise FitError(
            f"A USL fit needs at least 3 distinct concurrency levels, got {np.unique(n).size}; "
            "measure more concurrency levels."
        )
    return n, x


def _starts(n: FloatArray, x: FloatArray) -> list[tuple[float, float, float]]:
    """Starting points: Gunther's linearisation plus a few generic ones."""
    lam_guess = float(np.max(x / n))
    starts = [(0.0, 0.0, lam_guess), (0.05, 1e-4, lam_guess), (0.3, 1e-3, lam_guess)]
    # n/X = 1/lam + (sigma/lam)(n-1) + (kappa/lam) n(n-1): linear least squares.
    a = np.column_stack([np.ones_like(n), n - 1.0, n * (n - 1.0)])
    coef, *_ = np.linalg.lstsq(a, n / x, rcond=None)
    if coef[0] > 0.0:
        lam0 = 1.0 / coef[0]
        starts.insert(
            0,
            (
                float(np.clip(coef[1] * lam0, 0.0, 1.0)),
                float(np.clip(coef[2] * lam0, 0.0, _KAPPA_MAX)),
                lam0,
            ),
        )
    return starts


def _solve(
    n: FloatArray, y: FloatArray, fixed: dict[int, float], starts: list[tuple[float, float, float]]
) -> tuple[FloatArray, float] | None:
    """Bounded least squares over the parameters not in ``fixed``; ``(params, cost)`` or None."""
    free = [i for i in range(3) if i not in fixed]
    lower = np.array([0.0, 0.0, 1e-12])[free]
    upper = np.array([1.0, _KAPPA_MAX, np.inf])[free]

    def full(p: FloatArray) -> FloatArray:
        out = np.empty(3)
        out[free] = p
        for i, v in fixed.items():
            out[i] = v
        return out

    def resid(p: FloatArray) -> FloatArray:
        q = full(p)
        return _model(n, q[0], q[1], q[2]) - y

    def jac(p: FloatArray) -> FloatArray:
        q = full(p)
        return _jacobian(n, q[0], q[1], q[2])[:, free]

    best: tuple[FloatArray, float] | None = None
    for start in starts:
        x0 = np.clip(np.array(start)[free], lower, np.minimum(upper, 1e300))
        res = optimize.least_squares(
            resid,
            x0,
            jac=jac,
            bounds=(lower, upper),
            method="trf",
            x_scale="jac",
            ftol=1e-15,
            xtol=1e-15,
            gtol=1e-15,
            max_nfev=10_000,
        )
        if np.all(np.isfinite(res.x)) and (best is None or res.cost < best[1]):
            best = (full(res.x), float(res.cost))
    return best


def fit_usl(concurrency: npt.ArrayLike, throughput: npt.ArrayLike, level: float = 0.95) -> USLFit:
    """Fit ``X(n) = lam*n / (1 + sigma(n-1) + kappa n(n-1))`` by bounded least squares.

    Minimises ``sum (X_i - X(n_i))^2`` with :func:`scipy.optimize.least_squares` (trust
    region reflective, analytic Jacobian) over ``sigma in [0, 1]``, ``kappa in [0, 1)``,
    ``lam > 0``, from several starting points (including the linearisation
    ``n/X = 1/lam + (sigma/lam)(n-1) + (kappa/lam) n(n-1)``), keeping the best. A parameter
    is reported in ``at_bound`` (and set exactly to the bound) when the fit with it held at
    the bound is as good as the free fit.

    Standard errors: ``sqrt(diag(s^2 (J^T J)^-1))`` with ``J`` the Jacobian of the model at
    the estimate and ``s^2 = RSS/(n-3)``; intervals ``estimate -/+ t * se`` with ``t`` the
    ``(1+level)/2`` quantile of Student's t with ``n - 3`` degrees of freedom.

    Raises:
        FitError: fewer than 4 points, fewer than 3 distinct concurrency levels,
            non-positive or non-finite values, or data that cannot identify the parameters.
        ConfigError: ``level`` outside (0, 1).
    """
    level_f = _check_real_open("confidence level", level, 0.0, 1.0, "e.g. 0.95")
    n, x = _check_data(concurrency, throughput)
    scale = float(np.max(x))
    y = x / scale  # fit on a unit scale; lam is rescaled afterwards

    best = _solve(n, y, {}, _starts(n, y))
    if best is None:
        raise FitError("The USL fit did not converge on this data.")
    # A parameter is at its bound when holding it there fits as well as the free optimum
    # (the trust-region solver only approaches a bound from the inside). Only parameters
    # whose effect on the curve is already negligible are tried.
    sigma0, kappa0 = float(best[0][0]), float(best[0][1])
    n_max = float(np.max(n))
    near = {
        0: sigma0 * (n_max - 1.0) < 1e-4,
        1: kappa0 * n_max * (n_max - 1.0) < 1e-4,
    }
    candidates = [{0: 0.0, 1: 0.0}, {1: 0.0}, {0: 0.0}]
    trials = [f for f in candidates if all(near[i] for i in f)]
    if sigma0 > 1.0 - 1e-6:
        trials.append({0: 1.0})
    tolerance = best[1] * 1e-9 + 1e-24
    at_bound: list[str] = []
    for fixed in trials:
        snapped = _solve(n, y, fixed, [(sigma0, kappa0, float(best[0][2]))])
        if snapped is not None and snapped[1] <= best[1] + tolerance:
            best = snapped
            at_bound = [_NAMES[i] for i in sorted(fixed)]
            break
    sigma, kappa, lam_u = (float(v) for v in best[0])
    fitted = _model(n, sigma, kappa, lam_u)
    rss = float(np.sum((fitted - y) ** 2))
    tss = float(np.sum((y - y.mean()) ** 2))
    dof = n.size - 3
    s2 = rss / dof
    jmat = _jacobian(n, sigma, kappa, lam_u)
    try:
        cov = s2 * np.linalg.inv(jmat.T @ jmat)
    except np.linalg.LinAlgError as exc:
        raise FitError(
            "The data cannot separate contention (sigma) from coherency (kappa): the fit's "
            "Jacobian is singular. Measure a wider range of concurrency levels."
        ) from exc
    se_u = np.sqrt(np.clip(np.diag(cov), 0.0, None))
    if not np.all(np.isfinite(se_u)):
        raise FitError("The USL fit's standard errors are not finite; the data cannot identify the model.")
    lam = lam_u * scale
    se = (float(se_u[0]), float(se_u[1]), float(se_u[2]) * scale)
    tq = float(stats.t.ppf(0.5 + level_f / 2.0, dof))

    def ci(est: float, err: float) -> tuple[float, float]:
        return (est - tq * err, est + tq * err)

    if kappa > 0.0:
        peak = math.sqrt((1.0 - sigma) / kappa)
        x_max = lam * peak / (1.0 + sigma * (peak - 1.0) + kappa * peak * (peak - 1.0))
    else:
        peak = math.inf
        x_max = lam / sigma if sigma > 0.0 else math.inf
    if rss == 0.0:
        r2 = 1.0
    else:
        r2 = 1.0 - rss / tss if tss > 0.0 else 0.0
    return USLFit(
        sigma=sigma,
        kappa=kappa,
        lam=lam,
        se_sigma=se[0],
        se_kappa=se[1],
        se_lam=se[2],
        ci_sigma=ci(sigma, se[0]),
        ci_kappa=ci(kappa, se[1]),
        ci_lam=ci(lam, se[2]),
        level=level_f,
        r_squared=r2,
        n_points=int(n.size),
        peak_concurrency=peak,
        max_throughput=x_max,
        at_bound=at_bound,
        residual_std=math.sqrt(s2) * scale,
    )
