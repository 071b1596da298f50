import pytest

from capacity import profile
from capacity.errors import ConfigError


def test_cli_wins_over_profile_over_defaults(tmp_path) -> None:
    p = tmp_path / "p.toml"
    p.write_text('baseline_rate = 80\nslo_p99_ms = 250\n[surge]\nsurge_multiplier = 4\n')
    s = profile.resolve("surge", {"baseline_rate": 90}, p)
    assert s.shape.params["baseline_rate"] == 90
    assert s.shape.params["surge_multiplier"] == 4
    assert s.slo_p99_ms == 250
    assert s.interval_s == 1.0


def test_malformed_profile_is_one_clear_error(tmp_path) -> None:
    p = tmp_path / "bad.toml"
    p.write_text("baseline_rate = = 3\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        profile.resolve("surge", {}, p)


def test_unknown_profile_key(tmp_path) -> None:
    p = tmp_path / "p.toml"
    p.write_text("baseline_rat = 3\n")
    with pytest.raises(ConfigError, match="baseline_rat"):
        profile.resolve("surge", {}, p)


def test_bad_values() -> None:
    with pytest.raises(ConfigError, match="baseline_rate"):
        profile.resolve("surge", {"baseline_rate": -1})
    with pytest.raises(ConfigError, match="scenario"):
        profile.resolve("sruge", {})
    with pytest.raises(ConfigError, match="ftp"):
        profile.resolve("surge", {"target": "ftp://127.0.0.1/x"})
    with pytest.raises(ConfigError, match="--arrivals"):
        profile.resolve("surge", {"arrivals": "bursty"})


def test_redacted_settings_hide_passwords() -> None:
    s = profile.resolve("surge", {"target": "amqp://user:s3cret@127.0.0.1:5672/%2F?queue=q",
                                  "source": ["rabbitmq://user:s3cret@127.0.0.1:5672/%2F?queue=q"]})
    assert "s3cret" not in repr(s.redacted())


def test_credentials_travel_in_the_environment_not_argv(monkeypatch) -> None:
    s = profile.resolve("surge", {"target": "amqp://u:s3cret@127.0.0.1:5672/%2F?queue=q",
                                  "source": ["rabbitmq://u:s3cret@127.0.0.1:5672/%2F?queue=q", "demo"]})
    assert "s3cret" not in " ".join(s.to_argv())
    env = s.secret_env()
    monkeypatch.setenv(profile.SECRET_ENV, env[profile.SECRET_ENV])
    got = profile.secret_options()
    assert got["target"] == s.target and got["source"] == list(s.sources)
    plain = profile.resolve("surge", {"target": "http://127.0.0.1:8080"})
    assert plain.secret_env() == {} and "http://127.0.0.1:8080" in plain.to_argv()
