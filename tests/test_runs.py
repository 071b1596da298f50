import json

import pytest

from capacity.errors import RunFolderError
from capacity.runs import COLUMNS, RunWriter, read_run


def test_rows_are_on_disk_before_close_and_unmeasured_is_empty(tmp_path) -> None:
    w = RunWriter(tmp_path / "r", {"run_id": "r", "interval_s": 1.0})
    w.append({"t": 1.0, "phase": "baseline", "sent_rate": 10.0, "queue_depth": None})
    # not closed: a killed run keeps every finished interval
    run = read_run(tmp_path / "r")
    assert list(run.timeseries.columns) == list(COLUMNS)
    assert run.timeseries.loc[0, "sent_rate"] == 10.0
    assert run.timeseries["queue_depth"].isna().all()
    assert (tmp_path / "r" / "timeseries.csv").read_text().splitlines()[1].split(",")[11] == ""
    assert run.meta["ended"] == "running"
    w.close("interrupted", 0.0)
    assert read_run(tmp_path / "r").meta["ended"] == "interrupted"


def test_broken_folders_say_what_is_wrong(tmp_path) -> None:
    with pytest.raises(RunFolderError, match="does not exist"):
        read_run(tmp_path / "nope")
    (tmp_path / "a").mkdir()
    with pytest.raises(RunFolderError, match="run.json"):
        read_run(tmp_path / "a")
    (tmp_path / "a" / "run.json").write_text("{bad")
    with pytest.raises(RunFolderError, match="not valid JSON"):
        read_run(tmp_path / "a")
    (tmp_path / "a" / "run.json").write_text(json.dumps({"schema_version": 1}))
    (tmp_path / "a" / "timeseries.csv").write_text("t,foo\n1,2\n")
    with pytest.raises(RunFolderError, match="missing"):
        read_run(tmp_path / "a")


def test_refuses_to_overwrite_a_run(tmp_path) -> None:
    RunWriter(tmp_path / "r", {})
    with pytest.raises(RunFolderError, match="already holds a run"):
        RunWriter(tmp_path / "r", {})


def test_unknown_column_rejected(tmp_path) -> None:
    w = RunWriter(tmp_path / "r", {})
    with pytest.raises(RunFolderError, match="outside the contract"):
        w.append({"t": 1, "bogus": 2})
