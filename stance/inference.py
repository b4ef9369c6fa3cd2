"""The analyser: text -> claims with stance, speaker and role, batched on any device.

    analyser = stance.load()                       # bundled model
    article = analyser.analyze(text)
    articles = analyser.analyze_many(texts)
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterable, Sequence
from pathlib import Path

import torch

from stance.encoding import WindowCollator, encode_articles, tokens_to_char_span
from stance.modeling import StanceModel, load_pretrained_checked
from stance.resolve import resolve_speakers
from stance.schema import Article, Claim, Speaker
from stance.segment import segment

PRECISIONS = ("fp32", "bf16", "int8")


def bundled_model_dir() -> Path:
    """Where the bundled model lives: $STANCE_MODEL, or models/stance-mini-nl in the source tree."""
    env = os.environ.get("STANCE_MODEL")
    return Path(env) if env else Path(__file__).resolve().parent.parent / "models" / "stance-mini-nl"


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """'auto' -> CUDA when available, else CPU; anything else as torch understands it."""
    if str(device) == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


class Analyzer:
    """Runs a StanceModel over articles: segmentation, batching, decoding, name resolution."""

    def __init__(self, model: StanceModel, tokenizer, device: str | torch.device = "auto", precision: str = "fp32",
                 batch_size: int | None = None):
        if precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}")
        self.device = resolve_device(device)
        if precision == "int8" and self.device.type != "cpu":
            raise ValueError("int8 is dynamic quantisation for the CPU; use bf16 on CUDA")
        self.precision = precision
        self.config = model.config
        model = model.eval()
        if precision == "int8":
            # Dynamic int8 of the Linear layers: the GEMMs that dominate CPU inference.
            model = torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)
        self.model = model.to(self.device)
        self.tokenizer = tokenizer
        self.collator = WindowCollator(tokenizer.pad_token_id)
        # Windows per forward pass: 8 keeps CPU memory flat at full speed; GPUs want more.
        self.batch_size = batch_size or (8 if self.device.type == "cpu" else 64)

    def to(self, device: str | torch.device) -> "Analyzer":
        """Move the model to another device; returns self."""
        self.device = resolve_device(device)
        self.model.to(self.device)
        return self

    def analyze(self, text: str) -> Article:
        """Claims, stances and speakers of one article's text."""
        return self.analyze_many([text])[0]

    def analyze_many(self, texts: Sequence[str], batch_size: int | None = None, progress: bool = False,
                     ids: Sequence[str] | None = None) -> list[Article]:
        """Analyse many texts at once: each article is encoded once, in windows sorted by length.

        `batch_size` counts windows (article stretches of up to `max_seq_length` tokens).
        """
        if isinstance(texts, str):
            raise TypeError("analyze_many takes a list of texts; use analyze() for one text")
        for i, text in enumerate(texts):
            if not isinstance(text, str):
                raise TypeError(f"text {i} is {type(text).__name__}, not str")
        ids = list(ids) if ids is not None else [f"text-{i}" for i in range(len(texts))]
        bare = [Article(id=ids[i], text=t) for i, t in enumerate(texts)]
        spans = [segment(t) for t in texts]
        windows = encode_articles(self.tokenizer, bare, spans, max_length=self.config.max_seq_length,
                                  context_tokens=self.config.context_tokens)
        claims: list[list[Claim | None]] = [[None] * len(sp) for sp in spans]
        for (a, c), claim in self._predict(windows, batch_size or self.batch_size, progress, bare, spans):
            claims[a][c] = claim
        return [resolve_speakers(dataclasses.replace(article, claims=tuple(cs))) for article, cs in zip(bare, claims)]

    def _predict(self, windows, batch_size, progress, articles, spans) -> Iterable:
        # Length-sorted batches: dynamic padding then pads each batch only to its own longest row.
        order = sorted(range(len(windows)), key=lambda i: len(windows[i].input_ids))
        batches = [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
        if progress:
            from tqdm.auto import tqdm

            batches = tqdm(batches, desc="windows", unit="batch")
        cfg = self.config
        stance_labels, role_labels = cfg.stance_labels, cfg.role_labels
        author, other = role_labels.index("author"), role_labels.index("other")
        autocast = torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.precision == "bf16")
        with torch.inference_mode(), autocast:
            for idx in batches:
                group = [windows[i] for i in idx]
                batch = self.collator.encode(group)
                inputs = {k: v.to(self.device) for k, v in batch.model_inputs().items()}
                out = self.model(**inputs)
                stance_p = torch.softmax(out.stance_logits.float() / cfg.stance_temperature, -1).cpu()
                role_p = torch.softmax(out.role_logits.float(), -1).cpu()
                first, last, span_p, null_p = _best_spans(out.start_logits.float(), out.end_logits.float(),
                                                          batch.pieces[batch.claim_row].to(self.device),
                                                          cfg.max_speaker_tokens)
                # Plain lists and numpy once per batch: no tensor indexing per claim in the loop below.
                stance_rows, role_rows = stance_p.tolist(), role_p.tolist()
                first, last, span_p, null_p = first.tolist(), last.tolist(), span_p.tolist(), null_p.tolist()
                k = 0
                for w in group:
                    offsets, text = w.offsets, articles[w.article].text
                    for c, cut in zip(w.claims, w.truncated):
                        span = tokens_to_char_span(offsets, first[k], last[k])
                        rp, sp = role_rows[k], stance_rows[k]
                        if span is None:
                            role = author if rp[author] >= rp[other] else other
                            speaker = Speaker(role=role_labels[role])
                            score = null_p[k]
                        else:
                            start, end = _whole_words(text, *span)
                            # max() keeps the first of equal values, as torch.argmax does.
                            role = max((r for r in range(len(rp)) if r != author), key=rp.__getitem__)
                            speaker = Speaker(role=role_labels[role], text=text[start:end], start=start, end=end,
                                              resolved=text[start:end])
                            score = span_p[k]
                        s, e = spans[w.article][c]
                        yield (w.article, c), Claim(
                            start=s, end=e, stance=stance_labels[max(range(len(sp)), key=sp.__getitem__)], speaker=speaker,
                            stance_probs={l: round(p, 4) for l, p in zip(stance_labels, sp)},
                            role_probs={l: round(p, 4) for l, p in zip(role_labels, rp)},
                            speaker_score=round(score, 4), truncated=cut,
                        )
                        k += 1


def _whole_words(text: str, start: int, end: int) -> tuple[int, int]:
    """The predicted speaker span widened to whole words (a subword span can end mid-word)."""
    while start > 0 and _in_word(text[start - 1]):
        start -= 1
    while end < len(text) and _in_word(text[end]):
        end += 1
    return start, end


def _in_word(ch: str) -> bool:
    return ch.isalnum() or ch in "-'’"


def _best_spans(start_logits: torch.Tensor, end_logits: torch.Tensor, pieces: torch.Tensor, max_tokens: int):
    """Best (first, last) token span per claim against the no-speaker position 0, in tensor ops.

    Spans are at most `max_tokens` long and stay inside one claim segment (`pieces`, -1 for
    special tokens and padding); only (claims, tokens, max_tokens) scores are formed.
    """
    ps, pe = torch.softmax(start_logits, -1), torch.softmax(end_logits, -1)
    n, width = ps.shape
    k = min(max_tokens, width)
    # band[c, i, j] = value at token i + j (zero / -1 past the end).
    pe_band = torch.nn.functional.pad(pe, (0, k)).unfold(1, k, 1)[:, :width]
    piece_band = torch.nn.functional.pad(pieces, (0, k), value=-1).unfold(1, k, 1)[:, :width]
    allowed = (pieces[:, :, None] >= 0) & (piece_band == pieces[:, :, None])
    scores = (ps[:, :, None] * pe_band).masked_fill(~allowed, 0.0)
    flat = scores.flatten(1).max(-1)
    first = flat.indices // k
    last = first + flat.indices % k
    null = ps[:, 0] * pe[:, 0]
    is_null = null >= flat.values
    first = torch.where(is_null, torch.zeros_like(first), first)
    last = torch.where(is_null, torch.zeros_like(last), last)
    return first.cpu(), last.cpu(), flat.values.cpu(), null.cpu()


def load(path_or_id: str | os.PathLike | None = None, device: str = "auto", precision: str = "fp32", batch_size: int | None = None) -> Analyzer:
    """Load an analyser from a model directory or hub id (default: the bundled model)."""
    from transformers import AutoTokenizer

    path = str(path_or_id) if path_or_id is not None else str(bundled_model_dir())
    if path_or_id is None and not Path(path).is_dir():
        raise FileNotFoundError(
            f"the bundled model is not at {path}: install stance from its source tree (pip install -e .) "
            "or set STANCE_MODEL / pass the path of a model directory"
        )
    model = load_pretrained_checked(StanceModel, path)
    tokenizer = load_pretrained_checked(AutoTokenizer, path)
    return Analyzer(model, tokenizer, device=device, precision=precision, batch_size=batch_size)
