"""MLM pretraining: tokenizer, from scratch, resume, whole-word masking, continued pretraining."""

from __future__ import annotations

import json
import lzma

import pytest

from stance.configs import load_config
from stance.pretrain import SPECIAL_TOKENS, PackedText, PretrainConfig, iter_texts, pretrain, train_tokenizer

from conftest import DUTCH
from fixture_corpus import make_corpus


@pytest.fixture(scope="module")
def texts(tmp_path_factory):
    d = tmp_path_factory.mktemp("mlm-text")
    plain = d / "nieuws.txt.xz"
    with lzma.open(plain, "wt", encoding="utf-8") as fh:
        for line in (DUTCH + [a.text for a in make_corpus(40, seed=3)]) * 5:
            fh.write(line + "\n\n")
    from stance.schema import write_jsonl

    corpus = d / "corpus.jsonl"
    write_jsonl(make_corpus(10, seed=4), corpus)
    return [str(plain), str(corpus)]


def _cfg(texts, out, **kw) -> PretrainConfig:
    base = dict(output_dir=str(out), text_files=texts, text_weights=[0.7, 0.3], vocab_size=400, num_hidden_layers=1,
                hidden_size=32, num_attention_heads=2, intermediate_size=64, max_position_embeddings=66, seq_len=32,
                batch_size=4, max_steps=4, save_steps=2, eval_steps=2, logging_steps=1, eval_sequences=8,
                learning_rate=1e-3)
    base.update(kw)
    return PretrainConfig(**base)


def test_iter_texts_reads_plain_compressed_and_jsonl(texts):
    lines = list(iter_texts(texts[0]))
    assert lines[0] == DUTCH[0] and all(line.strip() == line and line for line in lines)
    assert len(list(iter_texts(texts[1]))) >= 10


def test_tokenizer_has_robberts_special_token_layout(texts, tmp_path):
    tok = train_tokenizer(texts, 400, tmp_path)
    assert [tok.convert_tokens_to_ids(t) for t in SPECIAL_TOKENS] == [0, 1, 2, 3, 4]
    assert (tok.cls_token_id, tok.pad_token_id, tok.sep_token_id, tok.mask_token_id) == (0, 1, 3, 4)
    enc = tok("„Er is geen bewijs”, zei hij.", return_offsets_mapping=True)
    assert enc["input_ids"][0] == 0 and enc["input_ids"][-1] == 3


def test_packed_sequences_have_the_set_length_and_held_out_lines_stay_apart(texts, tmp_path):
    tok = train_tokenizer(texts, 400, tmp_path)
    train = PackedText(tok, texts, [1, 1], seq_len=32, seed=0)
    seqs = [x["input_ids"] for _, x in zip(range(20), train)]
    assert all(len(s) == 32 and s[0] == 0 and s[-1] == 3 for s in seqs)
    held = list(PackedText(tok, texts, [1, 1], seq_len=32, seed=0, held_out=True))  # ends: held-out text is finite
    assert isinstance(held, list)


def test_pretrain_from_scratch_writes_encoder_curve_and_metrics(texts, tmp_path):
    final = pretrain(_cfg(texts, tmp_path / "run"), progress=False)
    for name in ("config.json", "model.safetensors", "tokenizer.json", "pretrain_metrics.json"):
        assert (final / name).exists(), name
    metrics = json.loads((final / "pretrain_metrics.json").read_text())
    assert metrics["steps"] == 4 and 0 <= metrics["eval_masked_accuracy"] <= 1
    assert (tmp_path / "run" / "loss_curve.png").stat().st_size > 1000
    # The encoder is usable as a StanceModel base.
    from stance.modeling import StanceModel

    StanceModel.from_encoder(str(final))


def test_pretrain_resumes_from_its_last_checkpoint(texts, tmp_path):
    pretrain(_cfg(texts, tmp_path / "run", max_steps=2), progress=False)
    first = [h for h in json.loads((tmp_path / "run" / "log_history.json").read_text()) if "loss" in h]
    assert (tmp_path / "run" / "checkpoint-2").is_dir()
    final = pretrain(_cfg(texts, tmp_path / "run", max_steps=4), progress=False)
    history = [h for h in json.loads((tmp_path / "run" / "log_history.json").read_text()) if "loss" in h]
    assert [h["step"] for h in history] == [1, 2, 3, 4]
    assert history[:2] == first  # steps 1-2 were restored from the checkpoint, not trained again
    assert json.loads((final / "pretrain_metrics.json").read_text())["steps"] == 4


def test_whole_word_masking_and_continued_pretraining(texts, tmp_path):
    first = pretrain(_cfg(texts, tmp_path / "a", whole_word_mask=True), progress=False)
    cont = pretrain(_cfg(texts, tmp_path / "b", from_encoder=str(first), max_steps=2), progress=False)
    assert json.loads((cont / "pretrain_metrics.json").read_text())["steps"] == 2


def test_config_from_yaml_with_overrides(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("output_dir: x\nmax_steps: 10\ntext_files: [a.txt]\n")
    cfg = load_config(PretrainConfig, path, ["max_steps=20", "bf16=true", "from_encoder=null"])
    assert (cfg.max_steps, cfg.bf16, cfg.text_files, cfg.from_encoder) == (20, True, ["a.txt"], None)
    with pytest.raises(ValueError, match="unknown PretrainConfig field"):
        load_config(PretrainConfig, path, ["max_stepz=1"])
    with pytest.raises(FileNotFoundError):
        pretrain(PretrainConfig(output_dir=str(tmp_path / "o"), text_files=[str(tmp_path / "missing.txt")]))
