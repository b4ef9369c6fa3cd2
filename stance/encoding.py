"""Articles -> model inputs: token windows over each article, claims as token ranges.

Each article is tokenized once and read in windows of at most `max_length` tokens,

    <s> article tokens ws..we </s>

Every claim is read from exactly one window: the first window that holds it whole
after at least `context_tokens` tokens of text before it (or from the article's
start). Most articles fit one window, so the encoder sees each token once instead of
once per claim that has it as context (about 4x fewer tokens on the corpus). A claim
longer than a whole window is cut and the cut recorded.

Gold speaker mentions become token positions inside the claim's window; 0 (`<s>`)
means no speaker, -100 a speaker outside the window (no span loss for that claim).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from stance.schema import ROLES, STANCES, Article

IGNORE = -100


@dataclass(frozen=True)
class Window:
    """One encoder row: token ids of a stretch of one article and the claims read from it.

    `offsets[t]` is token t's (start, end) in the article, (-1, -1) for `<s>` and `</s>`;
    `pieces[t]` numbers the claim segment token t lies in (-1 for specials), so that a
    speaker span never crosses a claim boundary. Claim token positions include the `<s>`
    shift. Label tuples are empty at inference time.
    """

    article: int
    input_ids: np.ndarray
    offsets: np.ndarray
    pieces: np.ndarray
    claims: tuple[int, ...]
    claim_first: tuple[int, ...]
    claim_last: tuple[int, ...]
    truncated: tuple[bool, ...]
    stance: tuple[int, ...] = ()
    role: tuple[int, ...] = ()
    speaker_first: tuple[int, ...] = ()
    speaker_last: tuple[int, ...] = ()


def _token_range(starts: np.ndarray, ends: np.ndarray, s: int, e: int) -> tuple[int, int]:
    """First and last token overlapping characters [s, e) (last < first when none does)."""
    return int(np.searchsorted(ends, s, side="right")), int(np.searchsorted(starts, e, side="left")) - 1


def encode_articles(
    tokenizer,
    articles: Sequence[Article],
    spans: Sequence[Sequence[tuple[int, int]]] | None = None,
    *,
    max_length: int = 512,
    context_tokens: int | None = None,
    with_labels: bool = False,
    stance_labels: Sequence[str] = STANCES,
    role_labels: Sequence[str] = ROLES,
) -> list[Window]:
    """Windows over `articles` (claims from `spans`, or the articles' own claims), in article order.

    One tokenizer call for all texts; the rest is array work per article and per claim.
    """
    if spans is None:
        spans = [[(c.start, c.end) for c in a.claims] for a in articles]
    content = max_length - 2
    if content < 8:
        raise ValueError(f"max_length {max_length} leaves no room for text")
    context = content // 4 if context_tokens is None else min(context_tokens, content // 2)
    cls, sep = tokenizer.cls_token_id, tokenizer.sep_token_id
    # verbose=False: whole articles exceed model_max_length by design; windows cut them afterwards.
    enc = tokenizer([a.text for a in articles], add_special_tokens=False, return_offsets_mapping=True, verbose=False)
    stance_index = {l: i for i, l in enumerate(stance_labels)}
    role_index = {l: i for i, l in enumerate(role_labels)}
    windows: list[Window] = []
    none = np.full((1, 2), -1, dtype=np.int64)  # offsets of <s> and </s>
    for a, (article, claim_spans) in enumerate(zip(articles, spans)):
        if not claim_spans:
            continue
        ids = np.asarray(enc["input_ids"][a], dtype=np.int64)
        offs = np.asarray(enc["offset_mapping"][a], dtype=np.int64).reshape(-1, 2)
        starts, ends = offs[:, 0], offs[:, 1]
        n_tok = len(ids)
        # A claim always covers at least one token (a stripped claim always has one; clamp anyway).
        ranges = []
        for s, e in claim_spans:
            f, l = _token_range(starts, ends, s, e)
            f = min(f, n_tok - 1)
            ranges.append((f, max(f, l)))
        piece_of_token = np.searchsorted(np.asarray([s for s, _ in claim_spans]), starts, side="right") - 1
        i = 0
        while i < len(ranges):
            first, last = ranges[i]
            if last - first + 1 > content:
                ws = first
            else:
                ws = max(0, min(first - context, n_tok - content), last + 1 - content)
            we = min(n_tok, ws + content)
            members = [i]
            j = i + 1
            while j < len(ranges) and ranges[j][1] < we:
                members.append(j)
                j += 1
            i = j
            firsts, lasts, cut = [], [], []
            for m in members:
                f, l = ranges[m]  # f >= ws always; only a claim longer than the window ends past it
                firsts.append(f - ws + 1)
                lasts.append(min(l, we - 1) - ws + 1)
                cut.append(l >= we)
            labels = {}
            if with_labels:
                sp_first, sp_last = [], []
                for m in members:
                    speaker = article.claims[m].speaker
                    if speaker.start is None:
                        sp_first.append(0)
                        sp_last.append(0)
                        continue
                    f, l = _token_range(starts, ends, speaker.start, speaker.end)
                    inside = ws <= f <= l < we
                    sp_first.append(f - ws + 1 if inside else IGNORE)
                    sp_last.append(l - ws + 1 if inside else IGNORE)
                labels = {
                    "stance": tuple(stance_index[article.claims[m].stance] for m in members),
                    "role": tuple(role_index[article.claims[m].speaker.role] for m in members),
                    "speaker_first": tuple(sp_first),
                    "speaker_last": tuple(sp_last),
                }
            windows.append(Window(
                article=a,
                input_ids=np.concatenate([[cls], ids[ws:we], [sep]]).astype(np.int64),
                offsets=np.concatenate([none, offs[ws:we], none]),
                pieces=np.concatenate([[-1], piece_of_token[ws:we], [-1]]),
                claims=tuple(members), claim_first=tuple(firsts), claim_last=tuple(lasts), truncated=tuple(cut),
                **labels,
            ))
    return windows


@dataclass(frozen=True)
class EncodedBatch:
    """Padded tensors for the model, plus each token's claim piece (for speaker decoding).

    Claims are flat over the batch: claim k sits in row `claim_row[k]`, is that row's
    `claim_slot[k]`-th claim and spans tokens `claim_first[k]..claim_last[k]`.
    """

    input_ids: "torch.Tensor"
    attention_mask: "torch.Tensor"
    pieces: "torch.Tensor"
    claim_row: "torch.Tensor"
    claim_slot: "torch.Tensor"
    claim_first: "torch.Tensor"
    claim_last: "torch.Tensor"
    labels: dict

    def model_inputs(self) -> dict:
        """The keyword arguments of StanceModel.forward (labels included when present)."""
        return {"input_ids": self.input_ids, "attention_mask": self.attention_mask, "claim_row": self.claim_row,
                "claim_slot": self.claim_slot, "claim_first": self.claim_first, "claim_last": self.claim_last,
                **self.labels}


_FIELDS = ("input_ids", "claim_first", "claim_last", "stance", "role", "speaker_first", "speaker_last")


def window_row(window: Window) -> dict:
    """A window as a plain dict of lists (a `datasets` row for training)."""
    row = {f: np.asarray(getattr(window, f)).tolist() for f in _FIELDS}
    row["length"] = len(window.input_ids)
    return row


class WindowCollator:
    """Pads windows into an EncodedBatch (dynamic padding to the longest row)."""

    def __init__(self, pad_token_id: int):
        self.pad_token_id = pad_token_id

    def encode(self, windows: Sequence[Window | dict]) -> EncodedBatch:
        """Stack windows (Window objects or `window_row` dicts) into tensors."""
        import torch

        get = (lambda w, f: w[f]) if windows and isinstance(windows[0], dict) else getattr
        lengths = [len(get(w, "input_ids")) for w in windows]
        n, width = len(windows), max(lengths)
        input_ids = np.full((n, width), self.pad_token_id, dtype=np.int64)
        attention_mask = np.zeros((n, width), dtype=np.int64)
        pieces = np.full((n, width), -1, dtype=np.int64)  # training rows (dicts) carry none: not needed there
        for r, w in enumerate(windows):
            input_ids[r, : lengths[r]] = get(w, "input_ids")
            attention_mask[r, : lengths[r]] = 1
            if isinstance(w, Window):
                pieces[r, : lengths[r]] = w.pieces
        counts = [len(get(w, "claim_first")) for w in windows]
        claim_row = np.repeat(np.arange(n), counts)
        claim_slot = np.concatenate([np.arange(c) for c in counts])

        def flat(field: str) -> "torch.Tensor":
            return torch.as_tensor(np.concatenate([np.asarray(get(w, field), dtype=np.int64) for w in windows]))

        labels = {}
        if windows and len(get(windows[0], "stance")) == counts[0]:
            labels = {"stance_labels": flat("stance"), "role_labels": flat("role"),
                      "start_positions": flat("speaker_first"), "end_positions": flat("speaker_last")}
        return EncodedBatch(
            torch.from_numpy(input_ids), torch.from_numpy(attention_mask), torch.from_numpy(pieces),
            torch.from_numpy(claim_row), torch.from_numpy(claim_slot.astype(np.int64)),
            flat("claim_first"), flat("claim_last"), labels,
        )

    def __call__(self, windows: Sequence[Window | dict]) -> dict:
        """The Trainer's collate function: model inputs and labels as tensors."""
        return self.encode(windows).model_inputs()


def tokens_to_char_span(offsets: np.ndarray, first: int, last: int) -> tuple[int, int] | None:
    """Article character span of tokens first..last of one row, or None for the no-speaker position."""
    if first == 0 or offsets[first, 0] < 0 or offsets[last, 0] < 0:
        return None
    return int(offsets[first, 0]), int(offsets[last, 1])
