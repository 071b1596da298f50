"""On-demand benchmarks (`make bench`). Figures are ratios measured side by side in one run;
absolute times on a shared machine are noise.

    .venv/bin/python benchmarks/run.py            # fit scaling, recorder overhead, model costs
    .venv/bin/python benchmarks/run.py --load     # + how fast one Locust process can send (demo target)
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def timed(fn: Callable[[], object], repeat: int = 3) -> float:
    best = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best.append(time.perf_counter() - t)
    return min(best)


def bench_fit() -> None:
    from capacity.fit import fit_run
    from capacity.runs import read_run
    from tests.simrun import simulated_run

    with tempfile.TemporaryDirectory() as d:
        short = [(30, 30), (30, 60), (30, 90), (30, 130), (40, 40)]
        long = [(d_ * 4, r) for d_, r in short]
        a = read_run(simulated_run(Path(d) / "a", 4, 0.04, short, seed=1))
        b = read_run(simulated_run(Path(d) / "b", 4, 0.04, long, seed=1))
        ta, tb = timed(lambda: fit_run(a), 1), timed(lambda: fit_run(b), 1)
    print(f"fit: {len(b.timeseries)} intervals vs {len(a.timeseries)}: time ratio {tb / ta:.2f} "
          f"(data ratio {len(b.timeseries) / len(a.timeseries):.1f}; the latency fit works on <= 8 rate bins)")


def bench_recorder() -> None:
    from capacity.intervals import IntervalStats

    n = 100_000
    s = IntervalStats(0.0, 1.0)

    def record() -> None:
        for i in range(n):
            t = i * 1e-4
            s.on_send(t, False)
            s.on_done(t, 5.0, True)

    def baseline() -> None:
        xs: list[tuple[float, float]] = []
        for i in range(n):
            t = i * 1e-4
            xs.append((t, 5.0))

    r, b = timed(record), timed(baseline)
    print(f"recorder: on_send+on_done per message costs {r / b:.1f}x a bare list append "
          f"({n / r:,.0f} messages/s on this machine, far above what one Locust process sends)")


def bench_models() -> None:
    from capacity.models.erlang import response_percentile
    from capacity.models.ggc import ggc_response_percentile

    args = [(lam, 25.0, 4) for lam in (20, 40, 60, 80, 95)]
    m = timed(lambda: [response_percentile(*a, 0.99) for a in args * 20])
    g = timed(lambda: [ggc_response_percentile(*a, 0.99, 1.0, 0.5) for a in args * 20])
    print(f"models: a G/G/c p99 (quadrature) costs {g / m:.0f}x an exact M/M/c p99")


def bench_load() -> None:
    """Send rate one Locust process sustains against the demo: late-send share at rising rates."""
    import subprocess

    import pandas as pd

    for rate in (200, 400, 800):
        with tempfile.TemporaryDirectory() as d:
            subprocess.run([sys.executable, "-m", "capacity", "run", "soak", "--soak-rate", str(rate),
                            "--soak-duration", "15", "--out", d, "--run-id", "b", "--demo-workers", "64",
                            "--demo-service-time-ms", "10"], capture_output=True, text=True, timeout=120)
            ts = pd.read_csv(Path(d) / "b" / "timeseries.csv")
            steady = ts[ts["phase"] == "soak"].iloc[2:]
            late = steady["late_sends"].sum() / max(1.0, steady["sent_rate"].sum())
            print(f"load: target {rate}/s -> sent {statistics.mean(steady['sent_rate']):.0f}/s, "
                  f"late sends {late:.1%}, request p99 {steady['req_p99_ms'].median():.1f} ms")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--load", action="store_true", help="also measure one Locust process's send rate")
    args = ap.parse_args()
    bench_recorder()
    bench_models()
    bench_fit()
    if args.load:
        bench_load()


if __name__ == "__main__":
    main()
