"""Baselines that any model must beat: majority class, TF-IDF + logistic regression, speaker rules.

Each baseline is fitted on a train split (`list[Article]`) in seconds and predicts
`list[Article]` from the raw text of the articles it is given (their claims are
ignored). Claims come from the segmenter; nothing is ever pickled.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, Pipeline

from stance.schema import STANCES, Article, Claim, Speaker

Segmenter = Callable[[str], list[tuple[int, int]]]
NO_SPEAKER = "<geen spreker>"


def _default_segmenter() -> Segmenter:
    # Imported on use: the segmenter is a separate module that may evolve on its own.
    from stance.segment import segment

    return segment


def _spans(article: Article, segmenter: Segmenter | None) -> list[tuple[int, int]]:
    return list((segmenter or _default_segmenter())(article.text))


# ---------------------------------------------------------------------------
# Rule-based speaker finder

_VERBS = (
    r"zegt|zei|zeggen|zeiden|stelt|stelde|stellen|stelden|waarschuwt|waarschuwde|waarschuwen|waarschuwden|"
    r"meldt|meldde|melden|meldden|schrijft|schreef|schrijven|benadrukt|benadrukte|verklaart|verklaarde|"
    r"vindt|vond|denkt|dacht|erkent|erkende|ontkent|ontkende|ontkennen|noemt|noemde|bevestigt|bevestigde|"
    r"beweert|beweerde|concludeert|concludeerde|verzekert|verzekerde|vreest|vreesde|vrezen|"
    r"laat weten|liet weten|laten weten|wijst erop|wees erop|twittert|twitterde"
)
_PARTICLE = r"(?:van|de|der|den|von|ter|ten|te|la|le|du|di|da)"
_CAP = r"[A-ZÀ-Þ][\w'’-]*"
_NAME = rf"{_CAP}(?:\s+(?:{_PARTICLE}\s+)*{_CAP})*(?:(?:,\s+{_CAP})*\s+en\s+{_CAP}(?:\s+{_CAP})*)?"
_TITLE_WORDS = (
    r"minister|premier|staatssecretaris|president|topman|topvrouw|ceo|cto|directeur|woordvoerder|"
    r"eurocommissaris|commissaris|kamerlid|europarlementariër|burgemeester|hoogleraar|onderzoeker|"
    r"expert|analist|oprichter|voorzitter|bestuursvoorzitter|ambassadeur|senator|minister-president"
)
_DET = r"(?:de|het|een|die|deze|beide|twee|drie|enkele|sommige|verschillende|meerdere|alle)"
_STOP = r"(?:geen|in|op|tegen|tegenover|bij|tijdens|aan|over|om|dat|niet|te|zich|er|het|de|een|nu|ook|nog|al|wel|daarover|eerder|gisteren|vandaag|dinsdag|maandag|woensdag|donderdag|vrijdag|zaterdag|zondag)"
_WORD = rf"(?!{_STOP}\b)[\w’'-]+"
_ADJ = rf"(?!{_STOP}\b)[\w-]+e(?=\s+{_WORD})"
_DETNP = rf"(?i:{_DET})\s+(?:{_ADJ}\s+){{0,2}}{_WORD}(?:\s+van\s+(?:(?:de|het)\s+)?(?:{_NAME}|(?:{_ADJ}\s+){{0,2}}{_WORD}))?"
# A noun phrase after a verb: a pronoun, a (title +) name, a determiner phrase, or a bare plural.
_NP_AFTER = (
    rf"(?P<np>(?i:hij|zij|ze|hem|haar|hen)\b"
    rf"|(?:(?i:{_TITLE_WORDS})(?:\s+van\s+{_CAP})?\s+)?{_NAME}"
    rf"|{_DETNP}"
    rf"|(?!{_STOP}\b)[a-zà-ÿ][\w-]*(?:en|s)\b)"
)
_PRONOUNS = {"hij", "zij", "ze", "hem", "haar", "hen"}
_DESCRIPTIONS = re.compile(r"^(?:het|de) (?:\w+e )?(?:bedrijf|onderneming|fabrikant|minister|premier|topman|woordvoerder|Fransman|Amerikaan|Brit|Duitser|Belg|Chinees|organisatie|dienst|partij|staatssecretaris|krant)$", re.I)
_TITLES = re.compile(
    r"^(?:(?:de\s+|het\s+)?(?:Amerikaanse\s+|Nederlandse\s+|Belgische\s+|Europese\s+|Duitse\s+|Britse\s+|Franse\s+)?"
    rf"(?:[\w]+-)?(?:{_TITLE_WORDS})(?:\s+van\s+[A-Z]\w+)?\s+)+",
    re.I,
)
_QUOTE_OPEN = "„\"'‚“‘«"
_ADVERBIAL = (
    r"(?:Ook|Maar|En|Toch|Wel|Daarnaast|Verder|Eerder|Vervolgens|Bovendien|Daarom|Nu|Zo|Toen|Daar|Hier|In|Op|Bij|Na|"
    r"Tegen|Uit|Met|Vooruitlopend|Eind|Begin|Vorige|Vorig|Afgelopen|Gisteren|Vandaag|Desondanks|Intussen|Inmiddels|Wel)"
)

_VERB_AFTER = re.compile(rf"(?:^|[,”\"'’]\s*)(?:{_VERBS}|aldus)\s+{_NP_AFTER}")
_VOLGENS = re.compile(rf"\b[Vv]olgens\s+{_NP_AFTER}")
_INVERTED = re.compile(rf"^{_ADVERBIAL}\b[^,.:;!?„\"“]{{0,60}}?\s*\b(?:{_VERBS})\s+{_NP_AFTER}")
_SUBJECT = re.compile(rf"^(?:(?:Ook|Maar|En|Toch|Wel)\s+)?(?!{_ADVERBIAL}\b)(?P<np>[^,.:;!?„\"“]{{1,80}}?)\s+(?:{_VERBS})\b")
_COLON = re.compile(rf"^(?P<np>[^,.:;!?„\"“]{{1,60}}?):\s*[{_QUOTE_OPEN}]")
_DAT_ZEGT = re.compile(rf"^(?:Dat|Dit|Zo)\s+(?:{_VERBS})\s+{_NP_AFTER}")


def _clean_mention(text: str, start: int, end: int) -> tuple[int, int] | None:
    """Narrow a phrase to the shortest mention that still names the speaker (drop titles, brackets)."""
    phrase = text[start:end]
    cut = phrase.find("(")
    if cut > 0:
        phrase = phrase[:cut]
    phrase = phrase.rstrip(" ,;:")
    m = _TITLES.match(phrase)
    if m and m.end() < len(phrase) and phrase[m.end()].isupper():
        start, phrase = start + m.end(), phrase[m.end():]
    if not phrase.strip() or len(phrase.split()) > 7:
        return None
    lead = len(phrase) - len(phrase.lstrip())
    return start + lead, start + len(phrase.rstrip())


def _mention_in(text: str, claim_start: int, claim_end: int) -> tuple[int, int] | None:
    """The speaker mention a claim names itself, by reporting-verb patterns, or None."""
    claim = text[claim_start:claim_end]
    for pattern in (_COLON, _VERB_AFTER, _INVERTED, _VOLGENS, _SUBJECT):
        for m in pattern.finditer(claim):
            np_text = m.group("np")
            if pattern is _SUBJECT and (len(np_text.split()) > 5 or np_text.split()[0] in {"Er", "Dat", "Dit", "Wat", "Ik", "We", "Wij", "Het", "Die"} and len(np_text.split()) == 1):
                continue
            span = _clean_mention(text, claim_start + m.start("np"), claim_start + m.end("np"))
            if span is not None:
                return span
    return None


def _resolved_form(mention: str) -> str:
    # Resolved names carry no leading article or title (spec, "Resolved names").
    m = _TITLES.match(mention)
    if m and m.end() < len(mention):
        mention = mention[m.end():]
    return re.sub(r"^(?:de|het|De|Het)\s+", "", mention).strip()


def _is_reference(mention: str) -> bool:
    return mention.lower() in _PRONOUNS or bool(_DESCRIPTIONS.match(mention))


def find_speakers(text: str, spans: Sequence[tuple[int, int]]) -> list[Speaker]:
    """One speaker per claim span: mention offsets and resolved name (role left 'other' / 'author').

    Patterns: "zegt/zei/aldus/volgens X", "X waarschuwt/stelt (dat)", "Ook zegt X",
    "X: „...”", "Dat zegt X." in the next claim, and quotes that continue without a new
    attribution. Pronouns and descriptions ("hij", "het bedrijf") resolve to the last
    named speaker; a shorter form of an earlier name resolves to that fuller name.
    """
    spans = list(spans)
    found: list[tuple[int, int] | None] = [_mention_in(text, s, e) for s, e in spans]
    # "... Dat zegt X.": the next claim's mention is this claim's speaker too.
    for i in range(len(spans) - 1):
        s, e = spans[i + 1]
        m = _DAT_ZEGT.match(text[s:e])
        if m:
            span = _clean_mention(text, s + m.start("np"), s + m.end("np"))
            if span is not None:
                found[i + 1] = span
                if found[i] is None:
                    found[i] = span
    # A quote with no attribution of its own continues the previous speaker's words.
    for i in range(1, len(spans)):
        if found[i] is None and found[i - 1] is not None and text[spans[i][0]:spans[i][1]].lstrip()[:1] in _QUOTE_OPEN:
            found[i] = found[i - 1]
    speakers: list[Speaker] = []
    names: list[str] = []  # named speakers so far, most recent last
    for span in found:
        if span is None:
            speakers.append(Speaker(role="author"))
            continue
        mention = text[span[0]:span[1]]
        if _is_reference(mention):
            resolved = names[-1] if names else mention
        else:
            resolved = _resolved_form(mention)
            fuller = [n for n in reversed(names) if len(n) > len(resolved) and re.search(rf"(?<!\w){re.escape(resolved)}(?!\w)", n)]
            resolved = fuller[0] if fuller else resolved
            names.append(resolved)
        speakers.append(Speaker(role="other", text=mention, start=span[0], end=span[1], resolved=resolved))
    return speakers


# ---------------------------------------------------------------------------
# Classifiers


def _role_input(claim_text: str, mention: str | None) -> str:
    # The mention says most about the role; the claim text adds context.
    return f"{mention or NO_SPEAKER} ||| {claim_text}"


def _fix_role(role_scores: dict[str, float], has_mention: bool) -> str:
    """The best role that the spec allows: no mention -> author/other; a mention -> not author."""
    allowed = [r for r in role_scores if r != "author"] if has_mention else [r for r in role_scores if r in ("author", "other")]
    if not allowed:
        return "author" if not has_mention else "other"
    return max(allowed, key=role_scores.get)


@dataclass
class MajorityBaseline:
    """Every claim gets the most frequent stance and role of the training claims; no speaker."""

    segmenter: Segmenter | None = None
    stance: str = "neutral"
    role: str = "author"

    def fit(self, train: Sequence[Article]) -> MajorityBaseline:
        """Count the training labels."""
        claims = [c for a in train for c in a.claims]
        if not claims:
            raise ValueError("the training split holds no claims; give a corpus file with labelled articles")
        self.stance = Counter(c.stance for c in claims).most_common(1)[0][0]
        self.role = Counter(c.speaker.role for c in claims).most_common(1)[0][0]
        return self

    def predict(self, articles: Sequence[Article]) -> list[Article]:
        """Segment each article's text and label every claim with the majority classes."""
        return [
            replace(a, claims=tuple(Claim(s, e, self.stance, Speaker(role=self.role)) for s, e in _spans(a, self.segmenter)))
            for a in articles
        ]


def text_classifier(c: float = 4.0) -> Pipeline:
    """TF-IDF word 1-2-grams + character 2-5-grams, then class-balanced logistic regression."""
    features = FeatureUnion(
        [
            ("word", TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True)),
            ("char", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=2, max_features=50000)),
        ]
    )
    return Pipeline([("features", features), ("clf", LogisticRegression(C=c, class_weight="balanced", max_iter=5000))])


@dataclass
class TfidfBaseline:
    """Segmenter + TF-IDF/logistic-regression stance and role + rule-based speakers."""

    segmenter: Segmenter | None = None
    stance_model: Pipeline | None = None
    role_model: Pipeline | None = None

    def fit(self, train: Sequence[Article]) -> TfidfBaseline:
        """Fit the stance and role classifiers on the gold claims of `train`."""
        claims = [(a, c) for a in train for c in a.claims]
        stances = [c.stance for _, c in claims]
        roles = [c.speaker.role for _, c in claims]
        if len(set(stances)) < 2 or len(set(roles)) < 2:
            raise ValueError("the training split needs at least two stances and two roles to fit a classifier")
        self.stance_model = text_classifier().fit([a.claim_text(c) for a, c in claims], stances)
        self.role_model = text_classifier().fit([_role_input(a.claim_text(c), c.speaker.text) for a, c in claims], roles)
        return self

    def predict(self, articles: Sequence[Article]) -> list[Article]:
        """Segment, find speakers, and classify stance (with probabilities) and role."""
        if self.stance_model is None or self.role_model is None:
            raise RuntimeError("call fit(train) before predict()")
        out = []
        for a in articles:
            spans = _spans(a, self.segmenter)
            speakers = find_speakers(a.text, spans)
            texts = [a.text[s:e] for s, e in spans]
            claims = []
            if spans:
                sp = self.stance_model.predict_proba(texts)
                rp = self.role_model.predict_proba([_role_input(t, s.text) for t, s in zip(texts, speakers)])
                s_classes, r_classes = list(self.stance_model.classes_), list(self.role_model.classes_)
                for (s, e), spk, ps, pr in zip(spans, speakers, sp, rp):
                    probs = {lab: float(ps[s_classes.index(lab)]) if lab in s_classes else 0.0 for lab in STANCES}
                    role = _fix_role(dict(zip(r_classes, map(float, pr))), not spk.is_null)
                    claims.append(Claim(s, e, max(probs, key=probs.get), replace(spk, role=role), stance_probs=probs))
            out.append(replace(a, claims=tuple(claims)))
        return out


def baseline_systems(train: Sequence[Article], articles: Sequence[Article], segmenter: Segmenter | None = None) -> dict[str, list[Article]]:
    """Fit both baselines on `train` and predict `articles`: {"majority": ..., "tfidf-rules": ...}."""
    return {
        "majority": MajorityBaseline(segmenter).fit(train).predict(articles),
        "tfidf-rules": TfidfBaseline(segmenter).fit(train).predict(articles),
    }


__all__ = ["MajorityBaseline", "TfidfBaseline", "baseline_systems", "find_speakers", "text_classifier"]
