"""The encoding with RobBERT-2023's real tokenizer (read in place from ../shared; skipped when absent)."""

from __future__ import annotations

import pytest

from conftest import ROBBERT_DIR
from stance.encoding import encode_articles, tokens_to_char_span
from stance.schema import Article, Claim, Speaker

pytestmark = pytest.mark.skipif(not (ROBBERT_DIR / "tokenizer.json").exists(), reason="RobBERT-2023 tokenizer not available")

QUOTED = [
    ("„Er is geen bewijs”, zei Karel Peeters.", "Karel Peeters"),
    ('"Er is geen bewijs", zei Karel Peeters.', "Karel Peeters"),
    ("'Er is geen bewijs', zei Karel Peeters.", "Karel Peeters"),
    (",,Er is geen bewijs'', zei Karel Peeters.", "Karel Peeters"),
    ("“Er is geen bewijs”, zei Karel Peeters.", "Karel Peeters"),
    ("«Er is geen bewijs», zei Karel Peeters.", "Karel Peeters"),
    ("‘Er is geen bewijs’, zei Karel Peeters.", "Karel Peeters"),
    ("Karel Peeters: „Er is geen bewijs.”", "Karel Peeters"),
    ("„Huawei is onafhankelijk”, aldus topman Ren-Zhi Wéi van het bedrijf.", "Ren-Zhi Wéi"),
]


@pytest.fixture(scope="module")
def robbert_tokenizer():
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(ROBBERT_DIR)


def test_special_token_layout(robbert_tokenizer):
    tok = robbert_tokenizer
    assert (tok.cls_token_id, tok.pad_token_id, tok.sep_token_id, tok.mask_token_id) == (0, 1, 3, 4)
    assert len(tok) == 50000


@pytest.mark.parametrize("text,name", QUOTED)
def test_offsets_round_trip_in_every_quote_style(robbert_tokenizer, text, name):
    lead = "Huawei ligt onder vuur. "
    full = lead + text + " Hij herhaalde dat."
    start = full.index(name)
    claims = (Claim(0, len(lead) - 1), Claim(len(lead), len(lead) + len(text),
                                             speaker=Speaker(role="vendor", text=name, start=start, end=start + len(name))),
              Claim(len(lead) + len(text) + 1, len(full)))
    article = Article(id="q", text=full, claims=claims)
    (window,) = encode_articles(robbert_tokenizer, [article], max_length=512, with_labels=True)
    assert window.claims == (0, 1, 2)
    ids, offsets = window.input_ids, window.offsets
    for t in range(len(ids)):
        s, e = int(offsets[t, 0]), int(offsets[t, 1])
        if s < 0:
            assert int(ids[t]) in (0, 3)
            continue
        # Every text token's offsets index characters that decode to that token.
        piece = robbert_tokenizer.decode([int(ids[t])])
        if "\ufffd" in piece:  # one byte of a multi-byte character: its offsets cover that character
            assert e - s == 1 and ord(full[s]) > 127
            continue
        assert full[s:e] == piece.strip() or full[s:e] in piece, (t, piece, full[s:e])
    # Each claim's tokens cover exactly its characters, and the speaker maps back to the name.
    for c, f, l in zip(window.claims, window.claim_first, window.claim_last):
        assert (offsets[f, 0], offsets[l, 1]) == (claims[c].start, claims[c].end)
    assert window.speaker_first[1] > 0
    span = tokens_to_char_span(offsets, window.speaker_first[1], window.speaker_last[1])
    assert full[span[0] : span[1]] == name
    assert window.speaker_first[0] == window.speaker_first[2] == 0


def test_spec_example_speaker_span_maps_back_exactly(robbert_tokenizer):
    # The spec's record: claim [0, 87) with speaker "Mike Pompeo" at [41, 52), then claim [88, 140).
    first = "Volgens de Amerikaanse minister van BuZa Mike Pompeo is Huawei een risico voor Europa en de NAVO."
    first = first[:86] + "."
    assert first.index("Mike Pompeo") == 41
    second = "Het Chinese bedrijf ontkent alle beschuldigingen nu."
    text = first + " " + second
    assert len(first) == 87 and len(text) == 140
    article = Article(id="spec", text=text, claims=(
        Claim(0, 87, "asserts_risk", Speaker(role="government", text="Mike Pompeo", start=41, end=52, resolved="Mike Pompeo")),
        Claim(88, 140),
    ))
    (window,) = encode_articles(robbert_tokenizer, [article], with_labels=True)
    assert tokens_to_char_span(window.offsets, window.speaker_first[0], window.speaker_last[0]) == (41, 52)
    assert window.speaker_first[1] == window.speaker_last[1] == 0
