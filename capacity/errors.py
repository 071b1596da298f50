"""One error root for capplan.

Every error the library raises on purpose is a :class:`CapacityError`. The CLI catches it,
prints its message on one line and exits non-zero. Messages are full sentences that name the
bad value and say what to do.

    CapacityError
    ├── ConfigError        bad option, profile or parameter (raised where the object is built)
    ├── RunFolderError     a run folder that is missing, unreadable or breaks the schema
    ├── SourceError        a queue-depth source that cannot be parsed or reached
    ├── TargetError        a target endpoint that cannot be parsed or reached
    ├── FitError           too little or unsuitable data to fit a model
    └── LaunchError        Locust (or the demo service) failed to start or crashed
"""

from __future__ import annotations


class CapacityError(Exception):
    """Root of every error capplan raises on purpose."""


class ConfigError(CapacityError):
    """An option, profile entry or model parameter is invalid."""


class RunFolderError(CapacityError):
    """A run folder is missing, unreadable, or does not follow the schema."""


class SourceError(CapacityError):
    """A queue-depth source spec is malformed, or the source cannot be sampled."""


class TargetError(CapacityError):
    """A target endpoint is malformed or unreachable."""


class FitError(CapacityError):
    """The data cannot support the requested fit."""


class LaunchError(CapacityError):
    """A child process (Locust, the demo service) failed to start or exited badly."""
