"""Speaker resolution: names to their fullest form, pronouns and descriptions to earlier names."""

from __future__ import annotations

import pytest

from stance.resolve import fullest_name, is_description, resolve_speakers
from stance.schema import Article, Claim, Speaker


def _article(text: str, mentions: list[tuple[str, str, int]]) -> Article:
    """Claims, one per mention: (mention, role, occurrence number of the mention in the text)."""
    claims = []
    for mention, role, occurrence in mentions:
        start = -1
        for _ in range(occurrence + 1):
            start = text.index(mention, start + 1)
        claims.append(Claim(start, start + len(mention), speaker=Speaker(role=role, text=mention, start=start, end=start + len(mention))))
    return Article(id="r", text=text, claims=tuple(claims))


@pytest.mark.parametrize("mention,expected", [
    ("Hij", True), ("zij", True), ("Ze", True), ("de minister", True), ("het bedrijf", True),
    ("De Fransman", True), ("het Chinese bedrijf", True), ("de AIVD", False), ("Huawei", False),
    ("Mike Pompeo", False), ("VVD en CDA", False), ("De Volkskrant", False),
])
def test_descriptions_are_told_from_names(mention, expected):
    assert is_description(mention) is expected


def test_fullest_name_drops_titles_and_articles():
    text = "Minister Ferd Grapperhaus sprak. Volgens Grapperhaus is het veilig. Ook de AIVD waarschuwt."
    assert fullest_name("Grapperhaus", text) == "Ferd Grapperhaus"
    assert fullest_name("de AIVD", text) == "AIVD"


def test_pronoun_resolves_to_the_nearest_named_speaker_with_that_role():
    text = ("Minister Ferd Grapperhaus waarschuwt voor Huawei. Huawei-topman Li Wei ontkent dat. "
            "Hij zegt dat er geen achterdeur is. Grapperhaus blijft kritisch. Hij wil strengere regels.")
    article = resolve_speakers(_article(text, [("Grapperhaus", "government", 0), ("Li Wei", "vendor", 0),
                                               ("Hij", "vendor", 0), ("Grapperhaus", "government", 1),
                                               ("Hij", "government", 1)]))
    assert [c.speaker.resolved for c in article.claims] == [
        "Ferd Grapperhaus", "Li Wei", "Li Wei", "Ferd Grapperhaus", "Ferd Grapperhaus"]


def test_descriptions_find_names_in_the_text():
    text = ("De Fransman Thierry Dubois presenteerde de regels. Huawei reageerde niet. "
            "De Fransman zegt dat Europa moet kiezen. Het bedrijf ontkent alles.")
    article = resolve_speakers(_article(text, [("De Fransman", "eu", 1), ("Het bedrijf", "vendor", 0)]))
    assert [c.speaker.resolved for c in article.claims] == ["Thierry Dubois", "Huawei"]


def test_unresolvable_pronoun_keeps_its_text_and_input_is_not_mutated():
    article = _article("Hij zegt niets.", [("Hij", "other", 0)])
    resolved = resolve_speakers(article)
    assert resolved.claims[0].speaker.resolved == "Hij"
    assert article.claims[0].speaker.resolved is None


def test_claims_without_speaker_pass_through():
    article = Article(id="n", text="Huawei werd geweerd.", claims=(Claim(0, 20),))
    assert resolve_speakers(article).claims[0].speaker.resolved is None


def test_spokespeople_resolve_to_their_organisation():
    text = ("Huawei Benelux ontkent alles. „Wij volgen de wet”, zegt een woordvoerder. "
            "Volgens een woordvoerster van VodafoneZiggo is er geen probleem.")
    article = resolve_speakers(_article(text, [("Huawei Benelux", "vendor", 0), ("een woordvoerder", "vendor", 0),
                                               ("een woordvoerster van VodafoneZiggo", "industry", 0)]))
    assert [c.speaker.resolved for c in article.claims] == ["Huawei Benelux", "Huawei Benelux", "VodafoneZiggo"]


def test_acronyms_resolve_to_the_spelled_out_name():
    text = "Het Britse National Cyber Security Centre (NCSC) waarschuwt. Het NCSC ziet risico's."
    assert fullest_name("Het NCSC", text) == "National Cyber Security Centre"
    assert fullest_name("AIVD", text) == "AIVD"  # not spelled out in this text


@pytest.mark.parametrize("text,mention,expected", [
    ("Directeur Pieter Lenaerts sprak. Lenaerts zegt dat.", "Lenaerts", "Pieter Lenaerts"),
    ("Dat meldt het Centrum voor Cybersecurity. Directeur Lenaerts zegt dat.", "Lenaerts", "Lenaerts"),
    ("„Niet in Peking' Chen Hao zei het.", "Chen Hao", "Chen Hao"),
    ("Beveiligingsonderzoeker Rik Bakker zegt dat.", "Rik Bakker", "Rik Bakker"),
    ("Analist Bakker zegt dat.", "Bakker", "Bakker"),
    ("Eurocommissaris Ursula von der Leyen sprak. Von der Leyen zei dat.", "Von der Leyen", "Von der Leyen"),
    ("Kris Van Damme sprak. Van Damme zei dat.", "Van Damme", "Kris Van Damme"),
    ("Minister J. Jansen sprak. Jansen zei dat.", "Jansen", "J. Jansen"),
    ("Als Defensie dat wil, gebeurt het.", "Defensie", "Defensie"),
])
def test_fullest_name_adds_a_given_name_but_not_titles_or_sentence_ends(text, mention, expected):
    assert fullest_name(mention, text) == expected
