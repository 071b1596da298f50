import pytest

from capacity import shapes
from capacity.errors import ConfigError


def test_surge_phases_and_rates() -> None:
    s = shapes.surge(baseline_rate=10, surge_multiplier=3, baseline_duration=5, ramp=2, surge_duration=4,
                     recovery_duration=6)
    assert s.duration_s == 5 + 2 + 4 + 2 + 6
    assert s.rate_at(0) == 10 and s.phase_at(0) == "baseline"
    assert s.rate_at(6) == pytest.approx(20)  # halfway up the ramp
    assert s.rate_at(8) == 30 and s.phase_at(8) == "surge"
    assert s.rate_at(12) == pytest.approx(20) and s.phase_at(12) == "ramp-down"
    assert s.rate_at(15) == 10 and s.phase_at(15) == "recovery"
    assert s.rate_at(19) == 0 and s.phase_at(19) == "done"
    assert s.peak_rate == 30
    assert s.mean_rate(5, 7) == pytest.approx(20)


def test_step_staircase() -> None:
    s = shapes.step(start_rate=10, step_rate=5, steps=3, step_duration=2)
    assert [s.rate_at(t) for t in (0.5, 2.5, 4.5)] == [10, 15, 20]
    assert s.duration_s == 6


@pytest.mark.parametrize("kwargs, word", [
    ({"baseline_rate": -5}, "baseline_rate"),
    ({"surge_multiplier": 0}, "surge_multiplier"),
    ({"surge_duration": float("nan")}, "surge_duration"),
])
def test_bad_surge_parameters_name_the_value(kwargs: dict, word: str) -> None:
    with pytest.raises(ConfigError, match=word):
        shapes.surge(**kwargs)


def test_replay_reads_csv(tmp_path) -> None:
    p = tmp_path / "h.csv"
    p.write_text("t,rate\n0,10\n10,30\n20,10\n")
    s = shapes.replay(p, speedup=2)
    assert s.duration_s == 10
    assert s.rate_at(2.5) == pytest.approx(20)
