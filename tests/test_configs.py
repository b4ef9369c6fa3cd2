"""YAML configs with key=value overrides: types follow the dataclass fields."""

from __future__ import annotations

import pytest

from stance.configs import load_config
from stance.pretrain import PretrainConfig
from stance.train import TrainConfig


def test_numbers_in_every_yaml_spelling_become_the_fields_type(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("learning_rate: 5e-5\nhead_learning_rate: 1.0e-3\nepochs: 3\nbatch_size: 4\n", encoding="utf-8")
    cfg = load_config(TrainConfig, path, ["weight_decay=1e-2", "warmup_ratio=0", "max_steps=20", "context_tokens=32"])
    assert cfg.learning_rate == 5e-5 and isinstance(cfg.learning_rate, float)
    assert cfg.head_learning_rate == 1e-3
    assert cfg.weight_decay == 0.01 and isinstance(cfg.warmup_ratio, float)
    assert cfg.epochs == 3.0 and isinstance(cfg.epochs, float)
    assert cfg.max_steps == 20 and cfg.context_tokens == 32 and cfg.batch_size == 4


def test_lists_strings_booleans_and_null_pass_through(tmp_path):
    cfg = load_config(PretrainConfig, None, ["text_files=[a.txt, b.jsonl]", "output_dir=123", "bf16=true",
                                             "max_minutes=null", "from_encoder=1e-3"])
    assert cfg.text_files == ["a.txt", "b.jsonl"] and cfg.output_dir == "123" and cfg.bf16 is True
    assert cfg.max_minutes is None and cfg.from_encoder == "1e-3"


def test_a_bad_number_or_an_unknown_key_is_named():
    with pytest.raises(ValueError, match="learning_rate: 'fast' is not a float"):
        load_config(TrainConfig, None, ["learning_rate=fast"])
    with pytest.raises(ValueError, match="unknown TrainConfig field"):
        load_config(TrainConfig, None, ["learnin_rate=1"])
