import dataclasses

import pytest

from cliplens.core.config import ConfigError, ServiceConfig, load_config


@dataclasses.dataclass(frozen=True, kw_only=True)
class DemoConfig(ServiceConfig):
    models: tuple[str, ...] = ("toyworld",)
    ratio: float = 0.5
    enabled: bool = False


def test_defaults_then_yaml_then_environment(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("demo:\n  port: 1234\n  ratio: 0.25\n  models: [a, b]\nother:\n  x: 1\n")
    env = {"CLIPLENS_DEMO_RATIO": "0.75", "CLIPLENS_DEMO_ENABLED": "yes"}
    cfg = load_config(DemoConfig, "demo", path=path, env=env)
    assert cfg.port == 1234          # from YAML
    assert cfg.ratio == 0.75         # environment wins over YAML
    assert cfg.models == ("a", "b")
    assert cfg.enabled is True
    assert cfg.max_message_mb == 64  # default


def test_environment_lists_are_comma_separated():
    cfg = load_config(DemoConfig, "demo", env={"CLIPLENS_DEMO_MODELS": "toyworld, ViT-B-32/random"})
    assert cfg.models == ("toyworld", "ViT-B-32/random")


def test_unknown_keys_are_warned_about(tmp_path, caplog):
    path = tmp_path / "c.yaml"
    path.write_text("demo:\n  prot: 1\n")
    load_config(DemoConfig, "demo", path=path, env={"CLIPLENS_DEMO_NOPE": "1"})
    assert "demo.prot" in caplog.text and "CLIPLENS_DEMO_NOPE" in caplog.text


@pytest.mark.parametrize("env, fragment", [
    ({"CLIPLENS_DEMO_PORT": "eighty"}, "CLIPLENS_DEMO_PORT: expected int"),
    ({"CLIPLENS_DEMO_PORT": "70000"}, "port: expected 0..65535, got 70000"),
    ({"CLIPLENS_DEMO_ENABLED": "maybe"}, "CLIPLENS_DEMO_ENABLED: expected bool"),
    ({"CLIPLENS_DEMO_LOG_LEVEL": "LOUD"}, "log_level"),
    ({"CLIPLENS_DEMO_TLS_CERT": "/nonexistent.pem"}, "tls_cert/tls_key"),
])
def test_invalid_values_name_the_key(env, fragment):
    with pytest.raises(ConfigError) as e:
        load_config(DemoConfig, "demo", env=env)
    assert fragment in str(e.value)
    assert str(e.value).startswith("invalid demo configuration") or "CLIPLENS_DEMO" in str(e.value)


def test_unreadable_yaml_is_a_config_error(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("demo: [unclosed\n")
    with pytest.raises(ConfigError, match="cannot read configuration file"):
        load_config(DemoConfig, "demo", path=path, env={})


def test_config_path_from_environment(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("demo:\n  port: 4321\n")
    assert load_config(DemoConfig, "demo", env={"CLIPLENS_CONFIG": str(path)}).port == 4321
