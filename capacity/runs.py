"""The run folder: the contract between the load generator, the fitter and the report.

``reports/<run-id>/`` holds ``run.json`` (what was run), ``timeseries.csv`` (one row per sampling
interval, appended and flushed as the run goes), later ``model.json`` and ``report.html``.
Everything that reads a run folder goes through :func:`read_run`, which validates the schema.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from capacity.errors import RunFolderError

SCHEMA_VERSION = 1

COLUMNS: tuple[str, ...] = (
    "t",
    "time",
    "phase",
    "target_rate",
    "sent_rate",
    "ok_rate",
    "error_rate",
    "late_sends",
    "req_p50_ms",
    "req_p95_ms",
    "req_p99_ms",
    "queue_depth",
    "processed_rate",
    "e2e_p50_ms",
    "e2e_p95_ms",
    "e2e_p99_ms",
    "in_flight",
)
NUMERIC_COLUMNS = tuple(c for c in COLUMNS if c not in ("time", "phase"))

RUN_JSON = "run.json"
TIMESERIES_CSV = "timeseries.csv"
GAPS_CSV = "gaps.csv"
MODEL_JSON = "model.json"
REPORT_HTML = "report.html"

END_STATES = ("running", "completed", "interrupted", "target_failed")


def new_run_id(scenario: str, now: datetime | None = None) -> str:
    """A sortable run id such as ``20261203-141502-surge``."""
    now = now or datetime.now(UTC)
    return f"{now:%Y%m%d-%H%M%S}-{scenario}"


def utc_iso(epoch_s: float) -> str:
    return datetime.fromtimestamp(epoch_s, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _fmt(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return ""
        return f"{value:.6g}"
    return str(value)


def write_json_atomic(path: Path, doc: Mapping[str, Any]) -> None:
    """Write JSON via a temporary file and rename, so a reader never sees half a file."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(doc, indent=2, sort_keys=False, default=_json_default) + "\n")
    os.replace(tmp, path)


def write_text_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def _json_default(o: object) -> object:
    if hasattr(o, "item"):
        return o.item()  # numpy scalars
    if isinstance(o, Path):
        return str(o)
    raise TypeError(f"{type(o).__name__} is not JSON serialisable")


class RunWriter:
    """Creates a run folder and appends interval rows, flushing each one to disk."""

    def __init__(self, folder: Path, meta: Mapping[str, Any]) -> None:
        self.folder = Path(folder)
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise RunFolderError(f"Cannot create run folder {str(folder)!r}: {e.strerror}; pick another --out.") from e
        if (self.folder / TIMESERIES_CSV).exists():
            raise RunFolderError(f"Run folder {str(folder)!r} already holds a run; use a new run id or --out.")
        self.meta: dict[str, Any] = {"schema_version": SCHEMA_VERSION, "ended": "running", **meta}
        write_json_atomic(self.folder / RUN_JSON, self.meta)
        self._fh = open(self.folder / TIMESERIES_CSV, "w", newline="", buffering=1)  # noqa: SIM115
        self._csv = csv.writer(self._fh)
        self._csv.writerow(COLUMNS)
        self._fh.flush()
        self._gaps = open(self.folder / GAPS_CSV, "w", newline="", buffering=1)  # noqa: SIM115
        self._gaps_csv = csv.writer(self._gaps)
        self._gaps_csv.writerow(("t", "time", "source", "reason"))
        self.rows = 0

    def append(self, row: Mapping[str, object]) -> None:
        unknown = set(row) - set(COLUMNS)
        if unknown:
            raise RunFolderError(f"Row has columns outside the contract: {sorted(unknown)}.")
        self._csv.writerow([_fmt(row.get(c)) for c in COLUMNS])
        self._fh.flush()
        os.fsync(self._fh.fileno())
        self.rows += 1

    def gap(self, t: float, epoch_s: float, source: str, reason: str) -> None:
        self._gaps_csv.writerow((_fmt(t), utc_iso(epoch_s), source, reason.replace("\n", " ")[:500]))
        self._gaps.flush()

    def update(self, **fields: Any) -> None:
        self.meta.update(fields)
        write_json_atomic(self.folder / RUN_JSON, self.meta)

    def close(self, ended: str, end_epoch_s: float) -> None:
        if ended not in END_STATES:
            raise ValueError(f"unknown end state {ended!r}")
        if not self._fh.closed:
            self._fh.close()
            self._gaps.close()
        self.update(ended=ended, end=utc_iso(end_epoch_s), intervals=self.rows)


@dataclass(frozen=True)
class Run:
    """A validated run folder: its metadata, its interval rows, and its recorded sampling gaps."""

    folder: Path
    meta: dict[str, Any]
    timeseries: pd.DataFrame
    gaps: pd.DataFrame

    @property
    def interval_s(self) -> float:
        return float(self.meta.get("interval_s", 1.0))

    @property
    def settings(self) -> dict[str, Any]:
        return dict(self.meta.get("settings", {}))

    def model(self) -> dict[str, Any] | None:
        p = self.folder / MODEL_JSON
        if not p.exists():
            return None
        try:
            doc = json.loads(p.read_text())
        except json.JSONDecodeError as e:
            raise RunFolderError(
                f"{p} is not valid JSON ({e.msg} at line {e.lineno}); run `capplan fit {self.folder}`."
            ) from None
        return dict(doc)


def read_timeseries(fp: io.TextIOBase | Any, where: str = "timeseries.csv") -> pd.DataFrame:
    """Read interval rows from a file object, checking the columns against the contract."""
    try:
        df = pd.read_csv(fp, keep_default_na=True, dtype={"phase": "string", "time": "string"})
    except pd.errors.EmptyDataError as e:
        raise RunFolderError(f"{where} is empty; the run recorded no header. Start a new run.") from e
    cols = tuple(df.columns)
    if cols != COLUMNS:
        missing = [c for c in COLUMNS if c not in cols]
        extra = [c for c in cols if c not in COLUMNS]
        raise RunFolderError(
            f"{where} does not follow the run-folder contract (missing {missing}, unexpected {extra}); "
            "it was not written by this version of capplan."
        )
    for c in NUMERIC_COLUMNS:
        df[c] = pd.to_numeric(df[c], errors="coerce").astype(float)
    return df


def read_run(folder: str | os.PathLike[str]) -> Run:
    """Load and validate a run folder (raises :class:`RunFolderError` naming what is wrong)."""
    path = Path(folder)
    if not path.is_dir():
        raise RunFolderError(f"Run folder {str(path)!r} does not exist; pass a folder under reports/.")
    meta_path = path / RUN_JSON
    if not meta_path.exists():
        raise RunFolderError(f"{str(path)!r} has no {RUN_JSON}; it is not a capplan run folder.")
    try:
        meta = json.loads(meta_path.read_text())
    except json.JSONDecodeError as e:
        raise RunFolderError(f"{meta_path} is not valid JSON ({e.msg} at line {e.lineno}).") from e
    if not isinstance(meta, dict) or meta.get("schema_version") != SCHEMA_VERSION:
        raise RunFolderError(
            f"{meta_path} has schema_version {meta.get('schema_version') if isinstance(meta, dict) else None!r}; "
            f"this capplan reads version {SCHEMA_VERSION}."
        )
    ts_path = path / TIMESERIES_CSV
    if not ts_path.exists():
        raise RunFolderError(f"{str(path)!r} has no {TIMESERIES_CSV}; the run never started sampling.")
    with open(ts_path, newline="") as fp:
        df = read_timeseries(fp, str(ts_path))
    gaps_path = path / GAPS_CSV
    gaps = pd.read_csv(gaps_path) if gaps_path.exists() else pd.DataFrame(columns=["t", "time", "source", "reason"])
    return Run(folder=path, meta=meta, timeseries=df, gaps=gaps)


def list_runs(out_dir: str | os.PathLike[str]) -> Sequence[Path]:
    root = Path(out_dir)
    if not root.is_dir():
        return []
    return sorted(p for p in root.iterdir() if (p / RUN_JSON).exists())
