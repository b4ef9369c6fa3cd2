"""Claims -> model inputs: context windows, character <-> token offsets, span targets.

A claim is encoded with the text around it, each token once:

    <s> claim </s> before </s> after </s>

The claim comes first, so the first token (read by the stance and role heads) always
sits right next to it whatever the context's length.

`before` is up to `context_before` preceding claims (trimmed from the left to fit),
`after` the next `context_after` claims (trimmed from the right). The claim comes
whole unless it alone exceeds the window; then it is cut and the cut recorded.
Datasets keep raw text pieces and character offsets; tokenization happens in the
collator, so the same examples serve any tokenizer and window.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from stance.schema import ROLES, STANCES, Article

IGNORE = -100


@dataclass(frozen=True)
class ClaimExample:
    """One claim and its context as raw text pieces with their article offsets, plus gold labels.

    Labels are -100 when unknown (inference). `speaker_start`/`speaker_end` are article
    character offsets of the gold speaker mention, or -1 for no speaker.
    """

    before: str
    before_start: int
    claim: str
    claim_start: int
    after: str
    after_start: int
    stance: int = IGNORE
    role: int = IGNORE
    speaker_start: int = -1
    speaker_end: int = -1


def _piece(text: str, start: int, end: int) -> tuple[str, int]:
    """text[start:end] without surrounding whitespace, with the offset of its first character."""
    chunk = text[start:end]
    stripped = chunk.lstrip()
    return stripped.rstrip(), start + len(chunk) - len(stripped)


def claim_examples(
    article: Article,
    spans: Sequence[tuple[int, int]] | None = None,
    context_before: int = 2,
    context_after: int = 1,
    with_labels: bool = True,
    stance_labels: Sequence[str] = STANCES,
    role_labels: Sequence[str] = ROLES,
) -> list[ClaimExample]:
    """One example per claim of `article` (or per span in `spans`, for unlabelled text)."""
    if spans is None:
        spans = [(c.start, c.end) for c in article.claims]
    text, out = article.text, []
    for i, (start, end) in enumerate(spans):
        b0 = spans[max(0, i - context_before)][0] if i > 0 and context_before > 0 else start
        a1 = spans[min(len(spans) - 1, i + context_after)][1] if i + 1 < len(spans) and context_after > 0 else end
        before, before_start = _piece(text, b0, start)
        claim, claim_start = _piece(text, start, end)
        after, after_start = _piece(text, end, a1)
        labels = {}
        if with_labels:
            gold = article.claims[i]
            labels = {
                "stance": list(stance_labels).index(gold.stance),
                "role": list(role_labels).index(gold.speaker.role),
                "speaker_start": gold.speaker.start if gold.speaker.start is not None else -1,
                "speaker_end": gold.speaker.end if gold.speaker.end is not None else -1,
            }
        out.append(ClaimExample(before, before_start, claim, claim_start, after, after_start, **labels))
    return out


@dataclass(frozen=True)
class EncodedBatch:
    """Tensors for the model plus each token's article character span.

    `offsets[r, t]` is (start, end) in the article for token t of row r, or (-1, -1)
    for special and padding tokens; `truncated[r]` says the claim itself was cut.
    """

    input_ids: "torch.Tensor"
    attention_mask: "torch.Tensor"
    offsets: "torch.Tensor"
    truncated: list[bool]
    labels: dict


def char_span_to_tokens(offsets, start: int, end: int) -> tuple[int, int]:
    """First and last token of one row's (T, 2) offsets overlapping characters [start, end); (0, 0) if none."""
    hits = ((offsets[:, 0] >= 0) & (offsets[:, 0] < end) & (offsets[:, 1] > start)).nonzero().flatten()
    return (0, 0) if len(hits) == 0 else (int(hits[0]), int(hits[-1]))


def tokens_to_char_span(offsets, first: int, last: int) -> tuple[int, int] | None:
    """Article character span of tokens first..last of one row, or None for the no-speaker position."""
    if first == 0 or offsets[first, 0] < 0 or offsets[last, 0] < 0:
        return None
    return int(offsets[first, 0]), int(offsets[last, 1])


class StanceCollator:
    """Tokenizes `ClaimExample`s into padded batches (dynamic padding to the longest row)."""

    def __init__(self, tokenizer, max_length: int = 256, after_share: float = 0.34, pad_to_multiple_of: int | None = None):
        self.tokenizer = tokenizer
        self.max_length = max_length
        self.after_share = after_share
        self.pad_to_multiple_of = pad_to_multiple_of

    def encode(self, examples: Sequence[ClaimExample]) -> EncodedBatch:
        """Tokenize, fit each row into the window, and build tensors and offset maps."""
        import torch

        tok = self.tokenizer
        pieces = [p for ex in examples for p in (ex.before, ex.claim, ex.after)]
        enc = tok(pieces, add_special_tokens=False, return_offsets_mapping=True)
        cls, sep, pad = tok.cls_token_id, tok.sep_token_id, tok.pad_token_id
        rows, offsets, truncated = [], [], []
        for r, ex in enumerate(examples):
            (b_ids, c_ids, a_ids) = enc["input_ids"][3 * r : 3 * r + 3]
            (b_off, c_off, a_off) = enc["offset_mapping"][3 * r : 3 * r + 3]
            budget = self.max_length - 4
            cut = len(c_ids) > budget
            c_ids, c_off = c_ids[:budget], c_off[:budget]
            room = budget - len(c_ids)
            n_after = min(len(a_ids), int(room * self.after_share)) if b_ids else min(len(a_ids), room)
            n_before = min(len(b_ids), room - n_after)
            n_after = min(len(a_ids), room - n_before)
            b_ids, b_off = b_ids[len(b_ids) - n_before :], b_off[len(b_off) - n_before :]
            a_ids, a_off = a_ids[:n_after], a_off[:n_after]
            ids = [cls, *c_ids, sep, *b_ids, sep, *a_ids, sep]
            none = np.full((1, 2), -1)
            offs = np.concatenate([
                none, np.asarray(c_off, dtype=np.int64).reshape(-1, 2) + ex.claim_start,
                none, np.asarray(b_off, dtype=np.int64).reshape(-1, 2) + ex.before_start,
                none, np.asarray(a_off, dtype=np.int64).reshape(-1, 2) + ex.after_start, none,
            ])
            rows.append(ids)
            offsets.append(offs)
            truncated.append(cut)
        width = max(len(r) for r in rows)
        if self.pad_to_multiple_of:
            width = -(-width // self.pad_to_multiple_of) * self.pad_to_multiple_of
        input_ids = torch.full((len(rows), width), pad, dtype=torch.long)
        attention_mask = torch.zeros((len(rows), width), dtype=torch.long)
        offset_t = torch.full((len(rows), width, 2), -1, dtype=torch.long)
        for r, ids in enumerate(rows):
            input_ids[r, : len(ids)] = torch.tensor(ids)
            attention_mask[r, : len(ids)] = 1
            offset_t[r, : len(ids)] = torch.from_numpy(offsets[r])
        offsets = offset_t
        labels = {}
        if examples and examples[0].stance != IGNORE:
            spans = [
                char_span_to_tokens(offs, ex.speaker_start, ex.speaker_end) if ex.speaker_start >= 0 else (0, 0)
                for ex, offs in zip(examples, offsets)
            ]
            labels = {
                "stance_labels": torch.tensor([ex.stance for ex in examples]),
                "role_labels": torch.tensor([ex.role for ex in examples]),
                "start_positions": torch.tensor([s for s, _ in spans]),
                "end_positions": torch.tensor([e for _, e in spans]),
            }
        return EncodedBatch(input_ids, attention_mask, offsets, truncated, labels)

    def __call__(self, examples: Sequence[ClaimExample | dict]) -> dict:
        """The Trainer's collate function: model inputs and labels as tensors."""
        fields = ClaimExample.__dataclass_fields__
        examples = [ex if isinstance(ex, ClaimExample) else ClaimExample(**{k: v for k, v in ex.items() if k in fields}) for ex in examples]
        batch = self.encode(examples)
        return {"input_ids": batch.input_ids, "attention_mask": batch.attention_mask, **batch.labels}
