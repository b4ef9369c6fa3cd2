"""The multi-task model: forward pass, training, save/load, learning and resume, offline on CPU."""

from __future__ import annotations

import time

import pytest
import torch

from stance.encoding import WindowCollator, encode_articles, tokens_to_char_span
from stance.modeling import ModelNotAvailableError, StanceModel
from stance.schema import ROLES, STANCES, Article, Claim, read_jsonl
from stance.train import TrainConfig, train

from fixture_corpus import make_corpus


def _batch(tokenizer, articles, max_length=128, context_tokens=None):
    windows = encode_articles(tokenizer, articles, max_length=max_length, context_tokens=context_tokens, with_labels=True)
    return windows, WindowCollator(tokenizer.pad_token_id).encode(windows)


def test_forward_and_loss_cover_all_three_heads(tiny_model, tiny_tokenizer):
    articles = make_corpus(2)
    windows, batch = _batch(tiny_tokenizer, articles)
    out = tiny_model(**batch.model_inputs())
    n = sum(len(a.claims) for a in articles)
    assert len(windows) == 2  # short articles: one window each, every claim read from it
    assert out.stance_logits.shape == (n, len(STANCES))
    assert out.role_logits.shape == (n, len(ROLES))
    assert out.start_logits.shape == out.end_logits.shape == (n, batch.input_ids.shape[1])
    assert torch.isfinite(out.loss)
    out.loss.backward()
    for head in (tiny_model.stance_head, tiny_model.role_head, tiny_model.speaker_query, tiny_model.speaker_key,
                 tiny_model.distance_bias):
        assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in head.parameters())
    # Padding and </s> can never be chosen as a speaker boundary; <s> (no speaker) always can.
    pad = batch.attention_mask[batch.claim_row] == 0
    assert (out.start_logits[pad] <= -1e3).all()
    ends = batch.attention_mask.sum(1)[batch.claim_row] - 1
    assert (out.start_logits[torch.arange(n), ends] <= -1e3).all()
    assert (out.start_logits[:, 0] > -1e3).all()


def test_claims_are_independent_of_their_batch_neighbours(tiny_model, tiny_tokenizer):
    """A window's claims get the same logits alone and batched with other (longer) windows."""
    tiny_model.eval()
    articles = make_corpus(5, seed=3)
    with torch.inference_mode():
        alone = tiny_model(**_batch(tiny_tokenizer, articles[:1])[1].model_inputs())
        together = tiny_model(**_batch(tiny_tokenizer, articles)[1].model_inputs())
    n = len(articles[0].claims)
    torch.testing.assert_close(alone.stance_logits, together.stance_logits[:n], atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(alone.role_logits, together.role_logits[:n], atol=1e-5, rtol=1e-4)
    width = alone.start_logits.shape[1]
    torch.testing.assert_close(alone.start_logits, together.start_logits[:n, :width], atol=1e-4, rtol=1e-4)


def test_no_labels_means_no_loss(tiny_model, tiny_tokenizer):
    windows = encode_articles(tiny_tokenizer, make_corpus(1), max_length=128)
    batch = WindowCollator(tiny_tokenizer.pad_token_id).encode(windows)
    assert not batch.labels
    assert tiny_model(**batch.model_inputs()).loss is None


def test_speaker_targets_map_back_to_the_gold_characters(tiny_tokenizer):
    articles = make_corpus(6)
    windows, batch = _batch(tiny_tokenizer, articles)
    for k, (row, first, last) in enumerate(zip(batch.claim_row.tolist(), batch.labels["start_positions"].tolist(),
                                               batch.labels["end_positions"].tolist())):
        window = windows[row]
        claim = articles[window.article].claims[window.claims[batch.claim_slot[k]]]
        span = tokens_to_char_span(window.offsets, first, last)
        if claim.speaker.text is None:
            assert span is None
        else:
            assert span == (claim.speaker.start, claim.speaker.end)
            assert articles[window.article].text[span[0] : span[1]] == claim.speaker.text
        # The claim's own tokens cover exactly its characters.
        f, l = int(batch.claim_first[k]), int(batch.claim_last[k])
        assert (window.offsets[f, 0], window.offsets[l, 1]) == (claim.start, claim.end)


def test_long_articles_get_several_windows_each_claim_read_once_with_context(tiny_tokenizer):
    article = make_corpus(1, seed=5)[0]
    long = Article(id="long", text=" ".join([article.text] * 12))
    spans = []
    step = len(article.text) + 1
    for r in range(12):
        spans += [(c.start + r * step, c.end + r * step) for c in article.claims]
    windows = encode_articles(tiny_tokenizer, [long], [spans], max_length=64, context_tokens=16)
    assert len(windows) > 3
    assert [c for w in windows for c in w.claims] == list(range(len(spans)))  # each claim once, in order
    for w in windows:
        assert len(w.input_ids) <= 64
        assert w.input_ids[0] == tiny_tokenizer.cls_token_id and w.input_ids[-1] == tiny_tokenizer.sep_token_id
        for c, f, l, cut in zip(w.claims, w.claim_first, w.claim_last, w.truncated):
            assert not cut
            assert (w.offsets[f, 0], w.offsets[l, 1]) == spans[c]
            # At least 16 tokens of text before the claim, unless the window starts the article.
            assert f > 16 or w.offsets[1, 0] == 0


def test_long_claims_are_truncated_and_say_so(tiny_tokenizer):
    text = "Huawei " * 300 + "is veilig."
    article = Article(id="long", text=text, claims=(Claim(0, len(text)),))
    (window,) = encode_articles(tiny_tokenizer, [article], max_length=64)
    assert window.truncated == (True,)
    assert len(window.input_ids) == 64
    assert window.claim_first == (1,) and window.claim_last == (62,)


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
    batch = WindowCollator(a1.tokenizer.pad_token_id).encode(encode_articles(a1.tokenizer, arts[:1], max_length=128))
    with torch.inference_mode():
        assert torch.equal(model(**batch.model_inputs()).stance_logits, a1.model(**batch.model_inputs()).stance_logits)


@pytest.mark.slow
def test_tiny_model_learns_the_separable_corpus(tiny_encoder_dir, fixture_corpus_files, tmp_path):
    """Stance, role and speaker span all above 0.9: labels and offsets are wired right."""
    from sklearn.metrics import f1_score

    from stance.inference import load

    final = train(_cfg(tiny_encoder_dir, fixture_corpus_files, tmp_path / "run", epochs=100, max_steps=600, batch_size=4,
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
