"""Baselines: speaker rules on Dutch reporting patterns, majority and TF-IDF classifiers."""

from __future__ import annotations

import numpy as np
import pytest

from stance.baselines import MajorityBaseline, TfidfBaseline, baseline_systems, find_speakers
from stance.schema import STANCES, Article, Claim, Speaker, article_from_dict, article_to_dict
from stance.segment import segment

from fixture_corpus import spans_of


def speakers_of(sentences: list[str]) -> list[tuple[str | None, str | None]]:
    """(mention as found at its offsets, resolved name) for each sentence taken as a claim."""
    text, spans = spans_of(sentences)
    out = []
    for sp in find_speakers(text, spans):
        assert sp.is_null or text[sp.start:sp.end] == sp.text  # offsets point at the mention
        out.append((sp.text, sp.resolved))
    return out


# ---------------------------------------------------------------------------
# Rule-based speakers


def test_reporting_verb_after_the_claim_drops_the_title():
    assert speakers_of(["Huawei vormt een risico voor de veiligheid, zegt minister Mike Pompeo."]) == [("Mike Pompeo", "Mike Pompeo")]


def test_aldus_and_volgens():
    got = speakers_of([
        "„Er is geen achterdeur gevonden”, aldus een woordvoerder van ZTE.",
        "Volgens de AIVD is de dreiging reëel.",
    ])
    # resolved names carry no leading article ("AIVD", not "de AIVD")
    assert got == [("een woordvoerder van ZTE", "een woordvoerder van ZTE"), ("de AIVD", "AIVD")]


def test_subject_before_the_verb():
    got = speakers_of([
        "Deskundigen waarschuwen voor spionage door Chinese leveranciers.",
        "Het bedrijf stelt dat de zorgen overdreven zijn.",
        "De beurs sloot gisteren hoger.",
    ])
    assert got[0] == ("Deskundigen", "Deskundigen")
    # "het bedrijf" is a description: it resolves to the last named speaker
    assert got[1] == ("Het bedrijf", "Deskundigen")
    assert got[2] == (None, None)


def test_inverted_order_after_an_adverb():
    assert speakers_of(["Ook zegt het kabinet dat de regels strenger worden."]) == [("het kabinet", "kabinet")]


def test_quote_with_colon():
    assert speakers_of(["Ericsson-topman Börje Ekholm: „Onze apparatuur is veilig.”"]) == [("Börje Ekholm", "Börje Ekholm")]


def test_dat_zegt_in_the_next_sentence_names_both_claims():
    text, spans = spans_of(["Huawei mag niet meebouwen aan 5G.", "Dat zeggen VVD en CDA."])
    a, b = find_speakers(text, spans)
    # both claims take the mention in the second sentence, with the same offsets
    assert a.text == b.text == "VVD en CDA"
    assert (a.start, a.end) == (b.start, b.end) == (text.index("VVD"), text.index("VVD") + len("VVD en CDA"))


def test_pronouns_and_quote_continuations_resolve_to_the_last_named_speaker():
    got = speakers_of([
        "Minister Ferd Grapperhaus waarschuwt voor Chinese spionage.",
        "Hij zei dat het kabinet geen risico neemt.",
        "„We moeten niet naïef zijn.”",
        "Grapperhaus zei ook dat de AIVD onderzoek doet.",
    ])
    assert got[0] == ("Ferd Grapperhaus", "Ferd Grapperhaus")
    assert got[1] == ("Hij", "Ferd Grapperhaus")
    assert got[2] == ("Hij", "Ferd Grapperhaus")  # the quote continues the earlier mention
    assert got[3] == ("Grapperhaus", "Ferd Grapperhaus")  # a shorter form resolves to the fuller name


def test_journalist_sentences_and_empty_input_have_no_speaker():
    assert speakers_of(["Huawei werd in 2019 geweerd.", "Er zijn zorgen over spionage."]) == [(None, None), (None, None)]
    assert find_speakers("", []) == []


# ---------------------------------------------------------------------------
# Classifiers


RISK = ["Huawei is een gevaar voor de nationale veiligheid en moet worden geweerd.",
        "De apparatuur kan worden gebruikt voor spionage door China.",
        "ZTE vormt een risico en moet uit het netwerk.", "Kaspersky is een veiligheidsrisico door spionage."]
DENY = ["Er is geen enkel bewijs voor spionage door Huawei.", "Het bedrijf ontkent alle beschuldigingen van spionage.",
        "Er is geen achterdeur gevonden in de apparatuur.", "Het verbod is niet nodig, er is geen bewijs."]
NEUTRAL = ["De beurs sloot dinsdag hoger.", "Het bedrijf opent een nieuw kantoor in Amsterdam.",
           "De omzet steeg vorig jaar met tien procent.", "Het kwartaalcijfer wordt donderdag bekendgemaakt."]


def train_corpus() -> list[Article]:
    articles = []
    for k in range(3):
        sentences = [RISK[k], "Dat zegt minister Mike Pompeo.", DENY[k], NEUTRAL[k], NEUTRAL[k + 1]]
        text, spans = spans_of(sentences)
        i = text.index("Mike Pompeo")
        pompeo = Speaker("government", "Mike Pompeo", i, i + 11, "Mike Pompeo")
        labels = [("asserts_risk", pompeo), ("neutral", pompeo), ("denies_risk", Speaker("author")),
                  ("neutral", Speaker("author")), ("neutral", Speaker("author"))]
        claims = tuple(Claim(s, e, st, sp) for (s, e), (st, sp) in zip(spans, labels))
        articles.append(Article(f"train{k}", text, claims))
    return articles


def test_majority_baseline_uses_the_segmenter_and_the_majority_labels():
    text = "Huawei is een risico. De beurs sloot hoger. Er is geen bewijs."
    [pred] = MajorityBaseline().fit(train_corpus()).predict([Article("x", text)])
    # training claims: 9 neutral of 15 -> neutral; 9 author of 15 -> author
    assert [(c.start, c.end) for c in pred.claims] == segment(text)
    assert {c.stance for c in pred.claims} == {"neutral"} and {c.speaker.role for c in pred.claims} == {"author"}
    with pytest.raises(ValueError, match="no claims"):
        MajorityBaseline().fit([Article("e", "")])


def test_tfidf_baseline_learns_stance_and_gives_valid_records():
    model = TfidfBaseline().fit(train_corpus())
    text = "Volgens minister Mike Pompeo is ZTE een gevaar voor de nationale veiligheid en moet het worden geweerd. De omzet steeg vorig jaar."
    [pred] = model.predict([Article("x", text)])
    assert len(pred.claims) == 2
    first, second = pred.claims
    assert first.stance == "asserts_risk" and second.stance == "neutral"
    assert first.speaker.text == "Mike Pompeo" and first.speaker.role != "author"
    # a claim without a speaker mention gets a role the spec allows for it
    assert second.speaker.is_null and second.speaker.role in ("author", "other")
    for c in pred.claims:
        assert set(c.stance_probs) == set(STANCES)
        assert sum(c.stance_probs.values()) == pytest.approx(1.0)
        assert c.stance == max(c.stance_probs, key=c.stance_probs.get)
    # the prediction is a valid spec record
    assert article_from_dict(article_to_dict(pred)) == pred


def test_baselines_read_only_the_raw_text():
    train = train_corpus()
    # the same text with its gold claims, and without: identical predictions
    with_claims = baseline_systems(train, train[:1])
    without = baseline_systems(train, [Article(train[0].id, train[0].text)])
    assert with_claims == without
    assert set(with_claims) == {"majority", "tfidf-rules"}


def test_custom_segmenter_and_fit_errors():
    train = train_corpus()
    whole = TfidfBaseline(segmenter=lambda t: [(0, len(t))] if t else []).fit(train)
    [pred] = whole.predict([Article("x", "Een zin. Nog een zin.")])
    assert [(c.start, c.end) for c in pred.claims] == [(0, 21)]
    [empty] = whole.predict([Article("e", "")])
    assert empty.claims == ()
    with pytest.raises(RuntimeError, match="fit"):
        TfidfBaseline().predict(train)
    one_class = [Article(a.id, a.text, tuple(Claim(c.start, c.end, "neutral") for c in a.claims)) for a in train]
    with pytest.raises(ValueError, match="two stances"):
        TfidfBaseline().fit(one_class)


def test_tfidf_beats_majority_on_held_out_sentences():
    from stance.metrics import score

    train = train_corpus()
    sentences = [RISK[3], DENY[3], NEUTRAL[2], NEUTRAL[3]]
    text, spans = spans_of(sentences)
    gold = [Article("held", text, tuple(Claim(s, e, st) for (s, e), st in
                                       zip(spans, ["asserts_risk", "denies_risk", "neutral", "neutral"])))]
    systems = baseline_systems(train, gold)
    major = score(gold, systems["majority"], n_resamples=0).metrics["stance_macro_f1"]
    tfidf = score(gold, systems["tfidf-rules"], n_resamples=0).metrics["stance_macro_f1"]
    # majority: neutral only -> F1 0, 0 and 2*2/(4+2) = 2/3 -> macro 2/9
    assert major == pytest.approx(2 / 9)
    assert tfidf > major
    assert np.isfinite(score(gold, systems["tfidf-rules"], n_resamples=0).metrics["stance_ece"])
