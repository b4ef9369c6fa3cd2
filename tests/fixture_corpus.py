"""A small, clearly separable corpus built from templates, for learning tests.

Each sentence's stance follows from its verb phrase, its role from its speaker, and
its speaker mention is the sentence subject, so a working model must fit all three.
"""

from __future__ import annotations

import random

from stance.schema import Article, Claim, Speaker

SPEAKERS = {
    "government": ["minister Jansen", "staatssecretaris De Boer", "het kabinet"],
    "security_agency": ["de AIVD", "het NCSC", "de MIVD"],
    "vendor": ["Huawei", "woordvoerder Chen", "ZTE"],
    "industry": ["KPN", "Proximus", "Telenet"],
    "expert": ["professor Bakker", "onderzoeker Visser", "analist Smit"],
    "eu": ["de Europese Commissie", "Eurocommissaris Meyer", "ENISA"],
}
ASSERTS = ["waarschuwt voor spionage door {v}.", "noemt {v} een gevaar voor de veiligheid.", "wil {v} weren uit het netwerk."]
DENIES = ["ziet geen enkel risico in {v}.", "zegt dat er geen bewijs is tegen {v}.", "vindt een verbod op {v} overdreven."]
NEUTRAL = ["{v} opende dit jaar een nieuw kantoor in Amsterdam.", "De omzet van {v} steeg vorig jaar.",
           "Het netwerk wordt volgend jaar uitgebreid door {v}."]
VENDORS = ["Huawei", "ZTE", "Hikvision", "Kaspersky"]


def make_corpus(n_articles: int = 24, seed: int = 0) -> list[Article]:
    """Articles of 4-6 template sentences with gold stance, role and speaker."""
    rng = random.Random(seed)
    articles = []
    for a in range(n_articles):
        text, claims = "", []
        for _ in range(rng.randint(4, 6)):
            v = rng.choice(VENDORS)
            kind = rng.choice(["asserts_risk", "denies_risk", "neutral"])
            if text:
                text += " "
            start = len(text)
            if kind == "neutral":
                sentence = rng.choice(NEUTRAL).format(v=v)
                speaker = Speaker(role="author")
            else:
                role = rng.choice(sorted(SPEAKERS))
                who = rng.choice(SPEAKERS[role])
                verb = rng.choice(ASSERTS if kind == "asserts_risk" else DENIES).format(v=v)
                sentence = f"{who[0].upper()}{who[1:]} {verb}"
                speaker = Speaker(role=role, text=sentence[: len(who)], start=start, end=start + len(who), resolved=sentence[: len(who)])
            text += sentence
            claims.append(Claim(start=start, end=len(text), stance=kind, speaker=speaker))
        articles.append(Article(id=f"fixture-{a}", text=text, claims=tuple(claims)))
    return articles


def spans_of(sentences: list[str]) -> tuple[str, list[tuple[int, int]]]:
    """Join sentences with one space; return the text and each sentence's span."""
    spans, pos = [], 0
    for s in sentences:
        spans.append((pos, pos + len(s)))
        pos += len(s) + 1
    return " ".join(sentences), spans
