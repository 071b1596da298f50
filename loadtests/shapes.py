"""Adapts a capplan shape to Locust's ``LoadTestShape``: one driver user per load-generator process.

The rate itself is not Locust's business: each driver user sends its share of ``rate_at(t)``. The
shape only keeps the drivers running for the shape's duration and then ends the test.
"""

from __future__ import annotations

from locust import LoadTestShape
from locust.runners import MasterRunner


class CapplanShape(LoadTestShape):
    use_common_options = False
    #: seconds after the last scheduled send before the test ends (lets in-flight sends finish)
    grace_s = 1.5

    def tick(self) -> tuple[int, float] | None:
        from loadtests import plugin

        state = plugin.STATE
        if state.settings is None:
            return None
        runner = self.runner
        users = max(1, runner.worker_count) if isinstance(runner, MasterRunner) else 1
        if state.t0 is not None and self.get_run_time() > state.settings.shape.duration_s + self.grace_s:
            return None
        return users, float(users)
