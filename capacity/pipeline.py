"""After a run: fit the model and write the report, keeping whatever can be kept."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from capacity import fit as fitting
from capacity.errors import FitError
from capacity.report import render
from capacity.runs import MODEL_JSON, REPORT_HTML, read_run, write_json_atomic


@dataclass(frozen=True)
class Outputs:
    folder: Path
    model: Path | None
    report: Path
    fit_error: str | None = None


def fit_and_save(folder: str | os.PathLike[str]) -> Path:
    """Fit the run in ``folder`` and write ``model.json``; raises FitError when the data cannot support it."""
    run = read_run(folder)
    model = fitting.fit_run(run)
    path = run.folder / MODEL_JSON
    write_json_atomic(path, model)
    return path


def finalize(folder: str | os.PathLike[str]) -> Outputs:
    """Fit (if the data allows) and render the report. The report is written even when the fit fails."""
    fit_error = None
    model_path: Path | None
    try:
        model_path = fit_and_save(folder)
    except FitError as e:
        fit_error, model_path = str(e), None
    run = read_run(folder)
    report = render.write_report(run, fit_error=fit_error)
    return Outputs(Path(folder), model_path, report if report else run.folder / REPORT_HTML, fit_error)
