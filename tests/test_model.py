"""The multi-task model: forward pass, training, save/load, learning and resume, offline on CPU."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
import torch

from stance.encoding import StanceCollator, claim_examples, tokens_to_char_span
from stance.modeling import ModelNotAvailableError, StanceModel
from stance.schema import ROLES, STANCES, read_jsonl
from stance.train import TrainConfig, train

from fixture_corpus import make_corpus


def _batch(tokenizer, articles, max_length=128):
    examples = [ex for a in articles for ex in claim_examples(a)]
    return examples, StanceCollator(tokenizer, max_length=max_length).encode(examples)


def test_forward_and_loss_cover_all_three_heads(tiny_model, tiny_tokenizer):
    examples, batch = _batch(tiny_tokenizer, make_corpus(2))
    out = tiny_model(input_ids=batch.input_ids, attention_mask=batch.attention_mask, **batch.labels)
    n = len(examples)
    assert out.stance_logits.shape == (n, len(STANCES))
    assert out.role_logits.shape == (n, len(ROLES))
    assert out.start_logits.shape == out.end_logits.shape == batch.input_ids.shape
    assert torch.isfinite(out.loss)
    out.loss.backward()
    for head in (tiny_model.stance_head, tiny_model.role_head, tiny_model.span_head):
        assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in head.parameters())
    # Padding positions can never be chosen as a speaker boundary.
    assert (out.start_logits[batch.attention_mask == 0] <= -1e3).all()


def test_no_labels_means_no_loss(tiny_model, tiny_tokenizer):
    _, batch = _batch(tiny_tokenizer, make_corpus(1))
    assert tiny_model(input_ids=batch.input_ids, attention_mask=batch.attention_mask).loss is None


def test_speaker_targets_map_back_to_the_gold_characters(tiny_tokenizer):
    articles = make_corpus(6)
    examples, batch = _batch(tiny_tokenizer, articles)
    claims = [c for a in articles for c in a.claims]
    texts = [a.text for a in articles for _ in a.claims]
    for row, (claim, text) in enumerate(zip(claims, texts)):
        first, last = int(batch.labels["start_positions"][row]), int(batch.labels["end_positions"][row])
        span = tokens_to_char_span(batch.offsets[row], first, last)
        if claim.speaker.text is None:
            assert span is None
        else:
            assert span == (claim.speaker.start, claim.speaker.end)
            assert text[span[0] : span[1]] == claim.speaker.text


def test_long_claims_are_truncated_and_say_so(tiny_tokenizer):
    from stance.schema import Article, Claim

    text = "Huawei " * 300 + "is veilig."
    article = Article(id="long", text=text, claims=(Claim(0, len(text)),))
    batch = StanceCollator(tiny_tokenizer, max_length=64).encode(claim_examples(article, with_labels=False))
    assert batch.truncated == [True]
    assert batch.input_ids.shape[1] == 64


def test_labels_are_stored_and_checked_on_load(tiny_model, tmp_path):
    tiny_model.save_pretrained(tmp_path)
    loaded = StanceModel.from_pretrained(tmp_path)
    assert loaded.config.stance_labels == list(STANCES)
    assert loaded.config.role_labels == list(ROLES)
    import json

    cfg = json.loads((tmp_path / "config.json").read_text())
    cfg["stance_labels"] = ["pro", "contra", "neutral"]
    (tmp_path / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(ValueError, match="stance labels"):
        StanceModel.from_pretrained(tmp_path)


def _cfg(tiny_encoder_dir, files, out, **kw) -> TrainConfig:
    base = dict(model=str(tiny_encoder_dir), train_file=str(files / "train.jsonl"), dev_file=str(files / "dev.jsonl"),
                output_dir=str(out), max_seq_length=128, epochs=1, batch_size=8, learning_rate=3e-3, warmup_ratio=0.0,
                early_stopping_patience=0, progress=False, seed=3, logging_steps=5)
    base.update(kw)
    return TrainConfig(**base)


def _predict_all(analyser, articles):
    return [[(c.start, c.end, c.stance, c.speaker.role, c.speaker.start, c.speaker.end) for c in a.claims]
            for a in analyser.analyze_many([a.text for a in articles])]


def test_train_save_load_gives_identical_predictions(tiny_encoder_dir, fixture_corpus_files, tmp_path):
    from stance.inference import load

    final = train(_cfg(tiny_encoder_dir, fixture_corpus_files, tmp_path / "run", max_steps=4))
    for name in ("config.json", "model.safetensors", "tokenizer.json", "README.md", "train_config.json"):
        assert (final / name).exists(), name
    model = StanceModel.from_pretrained(final).eval()
    arts = read_jsonl(fixture_corpus_files / "dev.jsonl")[:3]
    a1, a2 = load(final, device="cpu"), load(final, device="cpu")
    assert _predict_all(a1, arts) == _predict_all(a2, arts)
    ids = StanceCollator(a1.tokenizer, 128).encode(claim_examples(arts[0]))
    with torch.inference_mode():
        assert torch.equal(model(input_ids=ids.input_ids, attention_mask=ids.attention_mask).stance_logits,
                           a1.model(input_ids=ids.input_ids, attention_mask=ids.attention_mask).stance_logits)


@pytest.mark.slow
def test_tiny_model_learns_the_separable_corpus(tiny_encoder_dir, fixture_corpus_files, tmp_path):
    """Stance, role and speaker span all above 0.9: labels and offsets are wired right."""
    from sklearn.metrics import f1_score

    from stance.inference import load

    final = train(_cfg(tiny_encoder_dir, fixture_corpus_files, tmp_path / "run", epochs=100, max_steps=600, batch_size=16,
                       learning_rate=3e-3, eval_every="300", early_stopping_patience=0, class_weights=False))
    analyser = load(final, device="cpu")
    gold = read_jsonl(fixture_corpus_files / "dev.jsonl")
    pred = analyser.analyze_many([a.text for a in gold])
    g = [c for a in gold for c in a.claims]
    p = [c for a in pred for c in a.claims]
    assert [(c.start, c.end) for c in g] == [(c.start, c.end) for c in p]  # the segmenter cuts these templates exactly
    assert f1_score([c.stance for c in g], [c.stance for c in p], average="macro") > 0.9
    assert f1_score([c.speaker.role for c in g], [c.speaker.role for c in p], average="macro") > 0.9
    spans = sum((c.speaker.start, c.speaker.end) == (q.speaker.start, q.speaker.end) for c, q in zip(g, p)) / len(g)
    assert spans > 0.9


class _Crash(Exception):
    pass


def test_resume_after_a_crash_reaches_the_same_weights(tiny_encoder_dir, fixture_corpus_files, tmp_path, monkeypatch):
    from transformers import TrainerCallback

    import stance.train as st

    straight = train(_cfg(tiny_encoder_dir, fixture_corpus_files, tmp_path / "a", max_steps=8, eval_every="2",
                          save_total_limit=10))

    class CrashAt5(TrainerCallback):
        def on_step_end(self, args, state, control, **kw):
            if state.global_step == 5:
                raise _Crash()

    real_trainer = st.__dict__.get("Trainer")
    import transformers

    class CrashingTrainer(transformers.Trainer):
        def __init__(self, *a, **kw):
            kw["callbacks"] = [*(kw.get("callbacks") or []), CrashAt5()]
            super().__init__(*a, **kw)

    cfg = _cfg(tiny_encoder_dir, fixture_corpus_files, tmp_path / "b", max_steps=8, eval_every="2", save_total_limit=10)
    monkeypatch.setattr(transformers, "Trainer", CrashingTrainer)
    with pytest.raises(_Crash):
        train(cfg)
    monkeypatch.setattr(transformers, "Trainer", real_trainer or transformers.trainer.Trainer)
    assert (tmp_path / "b" / "checkpoint-4").is_dir() and not (tmp_path / "b" / "model").exists()
    resumed = train(cfg)
    a = StanceModel.from_pretrained(straight).state_dict()
    b = StanceModel.from_pretrained(resumed).state_dict()
    for k in a:
        torch.testing.assert_close(a[k], b[k], rtol=0, atol=1e-6, msg=k)


def test_from_encoder_without_network_fails_fast_with_advice(monkeypatch):
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    # A closed local port: unreachable at once, and no traffic leaves the machine.
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")
    t0 = time.monotonic()
    with pytest.raises(ModelNotAvailableError, match="local") as err:
        StanceModel.from_encoder("stance-test/no-such-model-xyz")
    assert time.monotonic() - t0 < 10
    assert "--local-dir" in str(err.value)


def test_from_encoder_offline_mode_fails_at_once(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    t0 = time.monotonic()
    with pytest.raises(ModelNotAvailableError, match="HF_HUB_OFFLINE"):
        StanceModel.from_encoder("DTAI-KULeuven/robbert-2023-dutch-base")
    assert time.monotonic() - t0 < 10


def test_from_encoder_rejects_a_missing_directory(tmp_path):
    with pytest.raises(ModelNotAvailableError, match="not a model directory"):
        StanceModel.from_encoder(str(tmp_path / "nope"))
