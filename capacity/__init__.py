"""capplan's library: run folders, collector, queueing models, fitter, planning, reports and the CLI.

This package never imports Locust (importing it monkey-patches the process); ``loadtests`` does.
"""

__version__ = "0.1.0"
