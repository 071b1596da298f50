"""capplan's surge locustfile: an open-model message publisher driven by a capplan shape.

    locust -f loadtests/locustfiles/surge.py                      # web UI, demo target started for you
    locust -f loadtests/locustfiles/surge.py --headless --target http://127.0.0.1:8080 --source demo
    capplan run surge                                             # the same, with progress and a report

Pick the scenario with ``--scenario surge|step``; every capplan option is a Locust option here.
"""

from loadtests import plugin  # noqa: F401  (registers options and event listeners)
from loadtests.plugin import MessagePublisher  # noqa: F401
from loadtests.shapes import CapplanShape  # noqa: F401
