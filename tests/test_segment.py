"""Tests for `stance.segment`: the claim cutter of `spec/labels.md` ("Unit: the claim")."""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stance.schema import Article, Claim, uncovered
from stance.segment import segment


def claims(text: str, **kwargs) -> list[str]:
    """The claim strings `segment` cuts from `text`."""
    return [text[s:e] for s, e in segment(text, **kwargs)]


def check_invariants(text: str, spans: list[tuple[int, int]]) -> None:
    """What every segmentation must satisfy, whatever the text."""
    previous_end = 0
    for start, end in spans:
        assert isinstance(start, int) and isinstance(end, int)
        assert previous_end <= start < end <= len(text)
        piece = text[start:end]
        assert piece == piece.strip() and piece
        previous_end = end
    article = Article(id="t", text=text, claims=tuple(Claim(s, e) for s, e in spans))
    assert uncovered(article) == []


# ---------------------------------------------------------------------------
# Properties over arbitrary text

# Text built from the characters the segmenter cares about, so that random examples
# hit quotes, abbreviations, line breaks and sentence ends far more often than st.text().
_DUTCH_PIECES = st.sampled_from(
    [
        "Huawei", "zegt", "de", "minister", "dhr", "prof", "J", "P", "o.a", "i.p.v", "enz", "etc",
        "3,5", "14.30", "2.5", "www.nos.nl/a.b", "info@kpn.nl", "camera's", "zo'n", "’s", "'t",
        ".", "...", "…", "?", "!", ":", ",", ";", " ", " ", " ", "\n", "\n\n", "\r\n", "\u2029",
        "„", "”", "“", '"', "'", "‘", "’", ",,", "''", "«", "»", "(", ")", "[", "]",
        "- ", "• ", "1. ", "a) ", "\t", "\u00a0", "\x85", "Ā", "ǅ", "İ", "ß",
    ]
)
dutch_like = st.lists(_DUTCH_PIECES, max_size=60).map("".join)


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_invariants_on_any_unicode(text):
    check_invariants(text, segment(text))


@settings(max_examples=500, deadline=None)
@given(dutch_like)
def test_invariants_on_dutch_like_text(text):
    check_invariants(text, segment(text))
    check_invariants(text, segment(text, join_continued_quotes=True))


@settings(max_examples=300, deadline=None)
@given(dutch_like | st.text(), st.text(alphabet=" \t\n\r\x0b\x0c\x1c\x85\u00a0\u2028\u2029\u3000"))
def test_surrounding_whitespace_only_shifts_offsets(text, pad):
    # Whitespace around the text never changes which claims are cut, only where they are.
    inner = text.strip()
    shifted = [(s + len(pad), e + len(pad)) for s, e in segment(inner)]
    assert segment(pad + inner + pad) == shifted


@given(st.text())
def test_is_deterministic(text):
    assert segment(text) == segment(text)


@pytest.mark.parametrize("bad", [None, b"Huawei is veilig.", 42, ["tekst"]])
def test_rejects_non_str(bad):
    with pytest.raises(TypeError, match="takes a str"):
        segment(bad)


@pytest.mark.parametrize("text", ["", " ", "\n\n", " \t\r\n\u00a0\u2029 "])
def test_blank_text_has_no_claims(text):
    assert segment(text) == []


def test_offsets_are_exact():
    text = "  Huawei ontkent.\n\nDat zegt het bedrijf.  "
    assert segment(text) == [(2, 17), (19, 40)]


@pytest.mark.parametrize(
    "text",
    [
        "." * 200_000,
        ("." * 1000 + "x") * 200,
        ("." * 500 + "'" * 500 + "x ") * 200,
        "1. " * 70_000,
        "(" * 100_000 + ")" * 100_000,
        '"' * 200_000,
        " 'a" * 70_000,
        "\n" * 200_000,
        "Dit is een zin. " * 20_000,
    ],
    ids=["dots", "dots-x", "dots-quotes", "numbers", "brackets", "quotes", "apostrophes", "newlines", "sentences"],
)
def test_adversarial_text_stays_linear(text):
    start = time.perf_counter()
    check_invariants(text, segment(text))
    assert time.perf_counter() - start < 10.0  # quadratic behaviour takes minutes here; 10 s allows a busy CI machine


# ---------------------------------------------------------------------------
# Sentences and quotes


def test_one_claim_per_sentence():
    assert claims("Huawei ontkent alles. Het bedrijf werkt niet voor Beijing! Of toch wel? Niemand weet het.") == [
        "Huawei ontkent alles.",
        "Het bedrijf werkt niet voor Beijing!",
        "Of toch wel?",
        "Niemand weet het.",
    ]


def test_speaker_named_in_next_sentence_is_its_own_claim():
    assert claims("Huawei mag niet meebouwen aan het netwerk. Dat zeggen VVD en CDA.") == [
        "Huawei mag niet meebouwen aan het netwerk.",
        "Dat zeggen VVD en CDA.",
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "„Wij zijn veilig. Er is geen achterdeur”, zei de woordvoerder. Daarna bleef het stil.",
            ["„Wij zijn veilig. Er is geen achterdeur”, zei de woordvoerder.", "Daarna bleef het stil."],
        ),
        (
            '"Wij zijn veilig. Er is geen achterdeur", zei de woordvoerder. Daarna bleef het stil.',
            ['"Wij zijn veilig. Er is geen achterdeur", zei de woordvoerder.', "Daarna bleef het stil."],
        ),
        (
            "'Wij zijn veilig. Er is geen achterdeur', zei de woordvoerder. Daarna bleef het stil.",
            ["'Wij zijn veilig. Er is geen achterdeur', zei de woordvoerder.", "Daarna bleef het stil."],
        ),
        (
            ",,Wij zijn veilig. Er is geen achterdeur,'' zei de woordvoerder. Daarna bleef het stil.",
            [",,Wij zijn veilig. Er is geen achterdeur,'' zei de woordvoerder.", "Daarna bleef het stil."],
        ),
        (
            "“Wij zijn veilig. Er is geen achterdeur”, zei de woordvoerder. Daarna bleef het stil.",
            ["“Wij zijn veilig. Er is geen achterdeur”, zei de woordvoerder.", "Daarna bleef het stil."],
        ),
        (
            "«Wij zijn veilig. Er is geen achterdeur», zei de woordvoerder. Daarna bleef het stil.",
            ["«Wij zijn veilig. Er is geen achterdeur», zei de woordvoerder.", "Daarna bleef het stil."],
        ),
        (
            "‘Wij zijn veilig. Er is geen achterdeur’, zei de woordvoerder. Daarna bleef het stil.",
            ["‘Wij zijn veilig. Er is geen achterdeur’, zei de woordvoerder.", "Daarna bleef het stil."],
        ),
        (
            "Volgens de dienst „zijn er zorgen. Grote zorgen”, aldus een bron. Meer werd niet gezegd.",
            ["Volgens de dienst „zijn er zorgen. Grote zorgen”, aldus een bron.", "Meer werd niet gezegd."],
        ),
    ],
    ids=["low-high", "straight-double", "straight-single", "double-comma", "curly-double", "guillemets", "curly-single", "aldus"],
)
def test_multi_sentence_quote_with_attribution_is_one_claim(text, expected):
    assert claims(text) == expected


def test_colon_then_multi_sentence_quote_is_one_claim():
    assert claims("De minister: „Dit is onaanvaardbaar. We grijpen in.” Het bedrijf zweeg.") == [
        "De minister: „Dit is onaanvaardbaar. We grijpen in.”",
        "Het bedrijf zweeg.",
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hij zei: „Dit klopt niet.” Daarna vertrok hij.", ["Hij zei: „Dit klopt niet.”", "Daarna vertrok hij."]),
        ('Hij zei: "Dit klopt niet." Daarna vertrok hij.', ['Hij zei: "Dit klopt niet."', "Daarna vertrok hij."]),
        ("Hij zei: 'Dit klopt niet.' Daarna vertrok hij.", ["Hij zei: 'Dit klopt niet.'", "Daarna vertrok hij."]),
        ("Hij zei: ,,Dit klopt niet.'' Daarna vertrok hij.", ["Hij zei: ,,Dit klopt niet.''", "Daarna vertrok hij."]),
        ("Hij zei: “Dit klopt niet.” Daarna vertrok hij.", ["Hij zei: “Dit klopt niet.”", "Daarna vertrok hij."]),
        ("Hij zei: «Dit klopt niet.» Daarna vertrok hij.", ["Hij zei: «Dit klopt niet.»", "Daarna vertrok hij."]),
        ("Hij zei: ‘Dit klopt niet.’ Daarna vertrok hij.", ["Hij zei: ‘Dit klopt niet.’", "Daarna vertrok hij."]),
        ("Hij vroeg: „Klopt dit?” Niemand antwoordde.", ["Hij vroeg: „Klopt dit?”", "Niemand antwoordde."]),
    ],
    ids=["low-high", "straight-double", "straight-single", "double-comma", "curly-double", "guillemets", "curly-single", "question"],
)
def test_sentence_ending_inside_closing_quote_ends_after_it(text, expected):
    assert claims(text) == expected


def test_quote_ending_with_question_mark_then_attribution_stays_whole():
    assert claims("„Waarom zouden we Huawei weren?” vroeg hij. Het bleef stil.") == [
        "„Waarom zouden we Huawei weren?” vroeg hij.",
        "Het bleef stil.",
    ]


def test_quote_interrupted_by_attribution_stays_whole():
    text = "„Is de router lek? Wie weet het? Dat onderzoek”, zegt de wethouder, „komt pas in maart.” Zo ging het."
    assert claims(text) == [
        "„Is de router lek? Wie weet het? Dat onderzoek”, zegt de wethouder, „komt pas in maart.”",
        "Zo ging het.",
    ]


def test_period_after_closing_quote():
    assert claims("Volgens hem is dat „onaanvaardbaar”. Hij wil maatregelen.") == [
        "Volgens hem is dat „onaanvaardbaar”.",
        "Hij wil maatregelen.",
    ]


def test_quote_continuation_is_its_own_claim():
    text = 'De wethouder noemt de camera\'s "prima bruikbaar". "Wij hangen ze niet bij het stadhuis." Ze wil wel een audit.'
    assert claims(text) == [
        'De wethouder noemt de camera\'s "prima bruikbaar".',
        '"Wij hangen ze niet bij het stadhuis."',
        "Ze wil wel een audit.",
    ]


def test_quote_attribution_quote_is_split_by_default_and_joined_on_request():
    text = "„De modem is gewoon veilig”, zegt de fabrikant. „Elke update wordt getest.” De toezichter twijfelt."
    assert claims(text) == ["„De modem is gewoon veilig”, zegt de fabrikant.", "„Elke update wordt getest.”", "De toezichter twijfelt."]
    assert claims(text, join_continued_quotes=True) == [
        "„De modem is gewoon veilig”, zegt de fabrikant. „Elke update wordt getest.”",
        "De toezichter twijfelt.",
    ]


def test_joining_needs_a_closed_quote_and_does_not_chain():
    cut_off = "„De drone blijft in de kast”, zegt de brandweercommandant. „Tot er een Europees model"
    assert claims(cut_off, join_continued_quotes=True) == ["„De drone blijft in de kast”, zegt de brandweercommandant.", "„Tot er een Europees model"]
    chained = ",,Dit is fout,'' zegt hij. ,,Echt fout.'' ,,Heel fout.''"
    assert claims(chained, join_continued_quotes=True) == [",,Dit is fout,'' zegt hij. ,,Echt fout.''", ",,Heel fout.''"]


def test_quote_cut_off_at_end_of_excerpt():
    assert claims("De burgemeester antwoordt kort. „De laadpalen blijven staan. Voorlopig, want de raad") == [
        "De burgemeester antwoordt kort.",
        "„De laadpalen blijven staan. Voorlopig, want de raad",
    ]


def test_excerpt_ending_mid_sentence():
    assert claims("De app verdwijnt uit de winkel. Wie hem al heeft, krijgt nog een maand lang upda") == [
        "De app verdwijnt uit de winkel.",
        "Wie hem al heeft, krijgt nog een maand lang upda",
    ]


def test_quote_left_open_mid_sentence_does_not_swallow_the_paragraph():
    assert claims("Hij noemde het „onzin. Daarna ging hij weg. Zij bleef.") == ["Hij noemde het „onzin.", "Daarna ging hij weg.", "Zij bleef."]


def test_quote_running_over_paragraphs():
    text = "„Wij zijn veilig. Er is niets aan de hand.\n\n„Ook morgen niet. Echt niet”, zei hij."
    assert claims(text) == ["„Wij zijn veilig. Er is niets aan de hand.", "„Ook morgen niet. Echt niet”, zei hij."]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hij sprak over camera's. Zo'n camera kost veel.", ["Hij sprak over camera's.", "Zo'n camera kost veel."]),
        ("De raad vergaderde ’s middags. ’s Nachts kwam het besluit.", ["De raad vergaderde ’s middags.", "’s Nachts kwam het besluit."]),
        ("De raad vergaderde 's middags. 's Nachts kwam het besluit.", ["De raad vergaderde 's middags.", "'s Nachts kwam het besluit."]),
        ("De modems stammen uit de jaren '80 en zijn traag. Niemand koopt ze.", ["De modems stammen uit de jaren '80 en zijn traag.", "Niemand koopt ze."]),
        ("De gedeputeerde noemde het plan ’voorbarig’ en zweeg. De raad stemde.", ["De gedeputeerde noemde het plan ’voorbarig’ en zweeg.", "De raad stemde."]),
        ("De app heet 'veilig by design'. De makers zijn trots.", ["De app heet 'veilig by design'.", "De makers zijn trots."]),
    ],
    ids=["in-word", "elision-curly", "elision-straight", "year", "single-quote-word", "quoted-phrase"],
)
def test_apostrophes_are_not_quotes(text, expected):
    assert claims(text) == expected


def test_elision_at_sentence_start_opens_no_quote():
    text = "’s Avonds reageerde Huawei. Het bedrijf ontkent. 't Is stil. '90 was een goed jaar. Dat meldt de NOS."
    assert claims(text) == ["’s Avonds reageerde Huawei.", "Het bedrijf ontkent.", "'t Is stil.", "'90 was een goed jaar.", "Dat meldt de NOS."]


def test_brackets_keep_their_sentences():
    assert claims("De meters (zie ook de bijlage. Die is lang.) zijn onveilig. Dat zegt hij.") == [
        "De meters (zie ook de bijlage. Die is lang.) zijn onveilig.",
        "Dat zegt hij.",
    ]


def test_credit_in_brackets_stays_with_caption():
    assert claims("Foto: een monteur plaatst een antenne op een mast. (Reuters)") == ["Foto: een monteur plaatst een antenne op een mast. (Reuters)"]


# ---------------------------------------------------------------------------
# Abbreviations, initials, numbers, addresses, ellipses

# Each abbreviation is followed by a capital or a digit where Dutch allows it,
# the case where a naive splitter would cut.
ABBREVIATION_SENTENCES = {
    "o.a.": "Het kabinet sprak met o.a. Huawei en Ericsson over de eisen.",
    "bijv.": "Leveranciers als bijv. Huawei moeten extra eisen volgen.",
    "dhr.": "Volgens dhr. Jansen is er geen gevaar.",
    "mevr.": "Volgens mevr. Bakker is er wel gevaar.",
    "mr.": "De zaak werd bepleit door mr. De Groot uit Utrecht.",
    "drs.": "Het rapport is geschreven door drs. Visser van Clingendael.",
    "prof.": "Volgens prof. Wauters van de KU Leuven is het risico reëel.",
    "dr.": "Volgens dr. Kouris van ENISA groeit de dreiging.",
    "ir.": "Het netwerk is ontworpen door ir. Smit van KPN.",
    "ing.": "De meting is gedaan door ing. Peters van het lab.",
    "nr.": "Het gaat om motie nr. 12 van de Kamer.",
    "ca.": "Er hangen ca. 300 camera's van het merk in de stad.",
    "i.p.v.": "KPN koos i.p.v. Huawei voor het Zweedse Ericsson.",
    "m.b.t.": "Er zijn vragen m.b.t. Huawei en de kernnetwerken.",
    "m.n.": "De zorgen gaan m.n. Huawei en ZTE aan.",
    "t.o.v.": "De markt groeide t.o.v. 2019 met tien procent.",
    "z.g.a.n.": "De router is z.g.a.n. en wordt verkocht.",
    "a.s.": "Het debat is a.s. dinsdag in de Kamer.",
    "d.w.z.": "Het gaat om de kern, d.w.z. de plek waar data samenkomen.",
    "i.v.m.": "Het bedrijf werd geweerd i.v.m. Chinese wetgeving.",
    "n.a.v.": "De Kamer stelde vragen n.a.v. Het Financieele Dagblad.",
    "o.b.v.": "De dienst oordeelt o.b.v. Nederlandse wetgeving.",
    "p.m.": "De kosten staan als p.m. in de begroting.",
    "resp.": "KPN en Vodafone gebruiken resp. Ericsson en Nokia.",
    "vs.": "Het is Europa vs. China in deze handelsruzie.",
    "St.": "De camera's hangen bij het St. Antonius Ziekenhuis.",
    "blz.": "Zie blz. 12 van het rapport voor de details.",
    "incl.": "De prijs is incl. BTW en installatie.",
    "excl.": "De prijs is excl. BTW en installatie.",
    "min.": "Het overleg duurde min. 40 minuten volgens de bode.",
    "max.": "Een leverancier mag max. 20 procent van het netwerk leveren.",
    "aug.": "Op 7 aug. 2021 reageerde de toezichthouder.",
    "sept.": "Op 3 sept. 2019 volgde het besluit.",
    "jan.": "Op 15 jan. 2020 kwam het rapport uit.",
    "feb.": "Sinds feb. 2023 geldt het verbod.",
    "art.": "Volgens art. 7 van de Chinese wet moeten bedrijven meewerken.",
    "mln.": "Het kostte 3 mln. euro om de apparatuur te vervangen.",
}


@pytest.mark.parametrize("abbreviation", sorted(ABBREVIATION_SENTENCES))
def test_abbreviation_does_not_end_a_sentence(abbreviation):
    first = ABBREVIATION_SENTENCES[abbreviation]
    assert abbreviation in first
    text = first + " Dat meldt de NOS."
    assert claims(text) == [first, "Dat meldt de NOS."]


@pytest.mark.parametrize("abbreviation", ["Dhr.", "Prof.", "Mr.", "Dr.", "Mevr."])
def test_capitalised_title_at_sentence_start(abbreviation):
    text = f"Het kabinet zwijgt. {abbreviation} Jansen spreekt wel. Hij waarschuwt."
    assert claims(text) == ["Het kabinet zwijgt.", f"{abbreviation} Jansen spreekt wel.", "Hij waarschuwt."]


@pytest.mark.parametrize("abbreviation", ["enz.", "etc.", "e.d.", "e.a.", "jl."])
def test_sentence_final_abbreviation_inside_a_sentence(abbreviation):
    text = f"Huawei, ZTE {abbreviation} werden in mei besproken. Dat meldt de NOS."
    assert claims(text) == [f"Huawei, ZTE {abbreviation} werden in mei besproken.", "Dat meldt de NOS."]


@pytest.mark.parametrize("abbreviation", ["enz.", "etc.", "e.d.", "e.a."])
def test_sentence_final_abbreviation_before_a_capital_ends_the_sentence(abbreviation):
    text = f"Het gaat om routers, modems {abbreviation} De minister wil een verbod."
    assert claims(text) == [f"Het gaat om routers, modems {abbreviation}", "De minister wil een verbod."]


def test_capitalised_name_or_acronym_is_no_abbreviation():
    assert claims("De waarschuwing kwam uit de VS. Het bedrijf ontkent. Dat zegt Jan. Hij weet het.") == [
        "De waarschuwing kwam uit de VS.",
        "Het bedrijf ontkent.",
        "Dat zegt Jan.",
        "Hij weet het.",
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("J.P. Balkenende sprak met Huawei. Het gesprek duurde kort.", ["J.P. Balkenende sprak met Huawei.", "Het gesprek duurde kort."]),
        ("Volgens A. de Vries is het veilig. Niet iedereen is het eens.", ["Volgens A. de Vries is het veilig.", "Niet iedereen is het eens."]),
        ("Minister W.B. Hoekstra zweeg. Zijn woordvoerder ook.", ["Minister W.B. Hoekstra zweeg.", "Zijn woordvoerder ook."]),
        ("Het bedrijf van K. Verbeek groeide. Dat zegt de krant.", ["Het bedrijf van K. Verbeek groeide.", "Dat zegt de krant."]),
    ],
    ids=["two-initials", "initial-lowercase-name", "initials-after-title", "single-initial"],
)
def test_initials(text, expected):
    assert claims(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("De operatie kost 3,5 miljard euro. Dat meldt de krant.", ["De operatie kost 3,5 miljard euro.", "Dat meldt de krant."]),
        ("Het aandeel steeg 2.5 procent. Beleggers zijn blij.", ["Het aandeel steeg 2.5 procent.", "Beleggers zijn blij."]),
        ("Het debat begint om 14.30 uur. De minister is er.", ["Het debat begint om 14.30 uur.", "De minister is er."]),
        ("Het kost 5.000.000 euro. Dat is veel.", ["Het kost 5.000.000 euro.", "Dat is veel."]),
        ("Het lek zit in versie 2.3.1 van de firmware. Versie v10.0.2 is veilig.", ["Het lek zit in versie 2.3.1 van de firmware.", "Versie v10.0.2 is veilig."]),
        ("Het bedrijf groeide in 2019. 2020 was een slecht jaar.", ["Het bedrijf groeide in 2019.", "2020 was een slecht jaar."]),
        ("Het debat begint om 14.30. Daarna stemt de Kamer.", ["Het debat begint om 14.30.", "Daarna stemt de Kamer."]),
    ],
    ids=["decimal-comma", "decimal-point", "time", "thousands", "versions", "year-start", "time-at-end"],
)
def test_numbers(text, expected):
    assert claims(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Het rapport staat op https://www.ncsc.nl/documenten/rapport.v2.pdf en is openbaar. De dienst licht het toe.",
            ["Het rapport staat op https://www.ncsc.nl/documenten/rapport.v2.pdf en is openbaar.", "De dienst licht het toe."],
        ),
        ("Meer staat op www.x.nl/a.b voor wie wil. Het is gratis.", ["Meer staat op www.x.nl/a.b voor wie wil.", "Het is gratis."]),
        ("Vragen kunnen naar pers.woordvoering@kpn.com worden gestuurd. Dat meldt KPN.", ["Vragen kunnen naar pers.woordvoering@kpn.com worden gestuurd.", "Dat meldt KPN."]),
        ("Lees het op nu.nl. Het stuk is lang.", ["Lees het op nu.nl.", "Het stuk is lang."]),
        ("Mail naar info@huawei.nl. Je krijgt antwoord.", ["Mail naar info@huawei.nl.", "Je krijgt antwoord."]),
    ],
    ids=["url", "url-with-path", "email", "url-at-end", "email-at-end"],
)
def test_urls_and_email_addresses(text, expected):
    assert claims(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hij aarzelde... en zei toen niets. Het bleef stil.", ["Hij aarzelde... en zei toen niets.", "Het bleef stil."]),
        ("Het was stil… heel stil. Daarna sprak hij.", ["Het was stil… heel stil.", "Daarna sprak hij."]),
        ("Hij zei dat (...) Huawei veilig is. Niemand geloofde het.", ["Hij zei dat (...) Huawei veilig is.", "Niemand geloofde het."]),
        ("Hij zei dat […] Huawei veilig is. Niemand geloofde het.", ["Hij zei dat […] Huawei veilig is.", "Niemand geloofde het."]),
        ("En toen kwam het verbod… De markt schrok.", ["En toen kwam het verbod…", "De markt schrok."]),
    ],
    ids=["dots", "ellipsis-char", "omission-round", "omission-square", "ellipsis-then-capital"],
)
def test_ellipses(text, expected):
    assert claims(text) == expected


def test_lowercase_brand_starts_a_sentence():
    assert claims("Apple brengt een nieuwe telefoon uit. iPhones zijn duur.") == ["Apple brengt een nieuwe telefoon uit.", "iPhones zijn duur."]


# ---------------------------------------------------------------------------
# Headings, captions, bullets, line breaks


def test_heading_on_its_own_line():
    assert claims("Zorgen in de gemeenteraad\nDe raad wil weten waar de camera's hangen.") == ["Zorgen in de gemeenteraad", "De raad wil weten waar de camera's hangen."]


def test_heading_between_blank_lines():
    text = "De raad stemt vandaag.\n\nUitslag onzeker\n\nDe stemming is om acht uur."
    assert claims(text) == ["De raad stemt vandaag.", "Uitslag onzeker", "De stemming is om acht uur."]
    assert segment(text) == [(0, 22), (24, 39), (41, 68)]


def test_heading_glued_to_sentence_stays_with_it():
    assert claims("Zorgen in de gemeenteraad De raad wil weten waar de camera's hangen. De wethouder zoekt het uit.") == [
        "Zorgen in de gemeenteraad De raad wil weten waar de camera's hangen.",
        "De wethouder zoekt het uit.",
    ]


def test_heading_with_question_mark():
    assert claims("Wie betaalt de rekening?\n\nDe provincie wil de kosten delen.") == ["Wie betaalt de rekening?", "De provincie wil de kosten delen."]


def test_quoted_heading():
    assert claims("Het bleef stil.\n\n‘Dit is pas het begin’\n\nDe haven bestelde nieuwe kranen.") == [
        "Het bleef stil.",
        "‘Dit is pas het begin’",
        "De haven bestelde nieuwe kranen.",
    ]


def test_blank_line_always_ends_a_claim():
    assert claims("Het kabinet besluit later, zegt\n\nde minister vandaag.") == ["Het kabinet besluit later, zegt", "de minister vandaag."]


def test_line_break_after_final_punctuation_is_like_a_space():
    text = "Huawei ontkent.\nHet bedrijf werkt niet voor Beijing.\nDat zegt prof.\nJansen van de TU."
    assert claims(text) == ["Huawei ontkent.", "Het bedrijf werkt niet voor Beijing.", "Dat zegt prof.\nJansen van de TU."]


def test_line_break_inside_a_quote():
    assert claims("„Wij zijn veilig.\nEr is geen achterdeur”, zei de woordvoerder.") == ["„Wij zijn veilig.\nEr is geen achterdeur”, zei de woordvoerder."]


def test_windows_line_breaks():
    assert claims("Uitslag onzeker\r\n\r\nHuawei ontkent.\r\nHet bedrijf zwijgt.") == ["Uitslag onzeker", "Huawei ontkent.", "Het bedrijf zwijgt."]


def test_bullets():
    text = "De eisen zijn:\n- geen Chinese kern\n- strenge screening.\n• Huawei weren\n• ZTE weren"
    assert claims(text) == ["De eisen zijn:", "- geen Chinese kern", "- strenge screening.", "• Huawei weren", "• ZTE weren"]


def test_bullet_lines_with_final_punctuation_are_separate():
    assert claims("- Huawei wordt geweerd.\n- ZTE ook.\n– Nokia niet.") == ["- Huawei wordt geweerd.", "- ZTE ook.", "– Nokia niet."]


def test_numbered_list():
    assert claims("1. Huawei weren.\n2. ZTE weren.\n3) Nokia houden.") == ["1. Huawei weren.", "2. ZTE weren.", "3) Nokia houden."]


def test_caption_line_without_punctuation():
    text = "Een Huawei-mast in Amsterdam (foto ANP)\nHet kabinet neemt een besluit."
    assert claims(text) == ["Een Huawei-mast in Amsterdam (foto ANP)", "Het kabinet neemt een besluit."]
