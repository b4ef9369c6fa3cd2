"""Speaker mentions -> the names they refer to.

A mention that is a name resolves to the fullest form of that name the article
uses ("Grapperhaus" -> "Ferd Grapperhaus"). A pronoun or description ("Hij",
"de minister", "het bedrijf", "de Fransman") resolves to the nearest fitting named
speaker earlier in the article, falling back to the nearest earlier name in the text.
"""

from __future__ import annotations

import dataclasses
import functools
import re

from stance.schema import Article, Claim

PRONOUNS = frozenset({"hij", "zij", "ze", "hijzelf", "zijzelf", "zelf", "die", "deze", "wij", "we", "men"})
DETERMINERS = frozenset({"de", "het", "een", "die", "deze", "dat", "diens", "zijn", "haar", "hun"})
# Demonyms and other capitalised nouns that describe rather than name ("de Fransman").
DEMONYMS = frozenset(
    "Fransman Française Amerikaan Amerikaanse Duitser Duitse Belg Belgische Nederlander Nederlandse Brit Britse "
    "Chinees Chinese Zweed Zweedse Fin Finse Deen Deense Italiaan Italiaanse Spanjaard Spaanse Pool Poolse Oostenrijker "
    "Oostenrijkse Vlaming Vlaamse Waal Waalse Litouwer Litouwse Est Estse Ier Ierse Portugees Portugese Tsjech Tsjechische "
    "Hongaar Hongaarse Roemeen Roemeense Griek Griekse Luxemburger Luxemburgse Canadees Canadese Japanner Japanse Rus Russische "
    "Let Letse Sloveen Sloveense Slowaak Slowaakse Kroaat Kroatische Bulgaar Bulgaarse Noor Noorse Zwitser Zwitserse "
    "Australiër Australische Taiwanees Taiwanese Koreaan Koreaanse Indiër Indiase Israëliër Israëlische "
    "Eurocommissaris Europarlementariër Kamerlid".split()
)
# Which roles a description can refer to; a description missing here fits any role.
_DESCRIPTION_ROLES = {
    "vendor": ("bedrijf", "fabrikant", "leverancier", "concern", "techbedrijf", "techgigant", "telecomgigant", "onderneming",
               "producent", "maker", "multinational", "topman", "topvrouw", "ceo", "oprichter", "woordvoerder", "woordvoerster",
               "directeur", "firma", "moederbedrijf", "chinese"),
    "government": ("minister", "staatssecretaris", "premier", "kabinet", "regering", "president", "kamerlid", "burgemeester",
                   "wethouder", "schepen", "ambassade", "ambassadeur", "partij", "fractie", "gemeente", "overheid", "ministerie",
                   "politicus", "senator", "toezichthouder"),
    "eu": ("commissie", "eurocommissaris", "commissaris", "europarlementariër", "raad", "fransman", "unie"),
    "security_agency": ("dienst", "inlichtingendienst", "veiligheidsdienst", "agentschap", "centrum", "coördinator"),
    "industry": ("operator", "provider", "telecomaanbieder", "aanbieder", "branchevereniging", "koepel", "sector"),
    "expert": ("onderzoeker", "expert", "deskundige", "analist", "hoogleraar", "professor", "wetenschapper", "denktank",
               "specialist", "adviseur", "consultant"),
}
_TITLE_WORDS = frozenset({"kamerlid", "europarlementariër", "minister", "woordvoerder", "woordvoerster", "topman",
                          "topvrouw", "directeur", "voorzitter", "fractievoorzitter", "senator", "burgemeester",
                          "wethouder", "schepen", "lijsttrekker", "commissaris", "eurocommissaris", "ceo", "oprichter"})
# Words that can stand before a name without being part of it.
_NOT_NAME = DETERMINERS | _TITLE_WORDS | {w.lower() for w in DEMONYMS} | {
    "volgens", "aldus", "staatssecretaris", "premier", "president", "hoogleraar", "dat", "zegt", "zei", "ook",
    "maar", "en", "toen", "nu", "als", "in", "op", "bij", "met", "voor", "na", "om", "dit", "wat", "wie", "hoe",
    "hoeveel", "waarom", "daarom", "toch", "zo", "wel", "niet", "geen", "alle"}
# A name part: capitalised, hyphenated only between capitals ("Jean-Claude", not "Huawei-topman").
_PART = r"[A-Z][\w'’.]*(?:-[A-Z][\w'’.]*)*"
_NAME_RE = re.compile(_PART + r"(?:\s+(?:(?:van|de|der|den|ter|ten|von|le|la|du|di|da|'t)\s+)*" + _PART + r")+")


def _norm(word: str) -> str:
    return word.strip(".,:;'\"„”“‘’«»()").lower()


# Institutions named by a common noun: "het kabinet" is itself the name of its speaker.
SELF_NAMED = frozenset({"kabinet", "regering", "overheid", "commissie", "ministerie", "parlement", "kamer", "senaat",
                        "politie", "douane", "gemeente", "gemeenteraad", "provincie", "raad", "rechter", "rechtbank"})


def is_description(mention: str) -> bool:
    """True for pronouns and descriptions ("Hij", "de minister", "De Fransman"), False for names."""
    words = mention.split()
    if not words:
        return False
    if len(words) == 1:
        return _norm(words[0]) in PRONOUNS
    if _norm(words[0]) not in DETERMINERS:
        return False
    rest = [w for w in words[1:] if w[:1].isalpha()]
    # "de minister", "het Chinese bedrijf": lowercase or demonym words only; "de AIVD" is a name.
    return all(w[:1].islower() or w.strip(".,") in DEMONYMS for w in rest)


def _fits(description: str, role: str | None) -> bool:
    words = {_norm(w) for w in description.split()}
    expected = [r for r, nouns in _DESCRIPTION_ROLES.items() if any(n in words or any(w.endswith(n) for w in words) for n in nouns)]
    return not expected or role in expected


@functools.lru_cache(maxsize=4096)
def _longer_forms(name: str) -> re.Pattern:
    # One name part before the mention (a given name), particles allowed in between.
    # Compiled once per name: resolution runs on every article of a batch job.
    return re.compile(r"(?<![\w-])(" + _PART + r")\s+(?:(?:van|de|der|den|ter|ten|von)\s+)*" + re.escape(name) + r"(?!\w)")


@functools.lru_cache(maxsize=4096)
def _spelled_out(acronym: str) -> re.Pattern:
    # "het Centrum voor Cybersecurity België (CCB)": capitalised words, joined by small words.
    return re.compile(r"((?:[A-Z][\w'’-]*\s+(?:(?:en|voor|van|de|der|het|op|tegen)\s+)*)*[A-Z][\w'’-]*)\s*\(\s*"
                      + re.escape(acronym) + r"\s*\)")


_PARTICLES = frozenset({"van", "de", "der", "den", "ter", "ten", "von", "le", "la", "du", "di", "da", "'t"})
_ROLE_NOUNS = tuple(n for n in {*(n for ns in _DESCRIPTION_ROLES.values() for n in ns), *_TITLE_WORDS,
                                "lid", "onderzoeker", "analist", "topman", "woordvoerder"} if len(n) >= 3)


def _is_given_name(word: str) -> bool:
    """Whether a capitalised word before a surname can be a given name: not a title ("Directeur",
    "Beveiligingsonderzoeker"), not a sentence end ("Cybersecurity."), not a quote ("Peking'")."""
    low = word.lower()
    if low in _NOT_NAME or low.endswith(_ROLE_NOUNS) or word[-1] in "'’":
        return False
    return not word.endswith(".") or (len(word) == 2 and word[0].isupper())  # "J." is an initial


def _strip_leading(parts: list[str]) -> list[str]:
    """Drop leading words that stand before a name but are not part of it ("Volgens", "minister",
    "de", "GroenLinks-Kamerlid")."""
    while len(parts) > 1 and (_norm(parts[0]) in _NOT_NAME or _norm(parts[0].split("-")[-1]) in _TITLE_WORDS):
        parts = parts[1:]
    return parts


def fullest_name(name: str, text: str) -> str:
    """The fullest form of `name` the article uses: "Grapperhaus" -> "Ferd Grapperhaus",
    "CCB" -> "Centrum voor Cybersecurity België" when the text spells the acronym out."""
    head = name.split()[0] if name.split() else name
    if _norm(head) in DETERMINERS:  # "de AIVD" -> "AIVD"
        name = " ".join(name.split()[1:]) or name
    if re.fullmatch(r"[A-Z][A-Z0-9&-]{1,9}", name):
        m = _spelled_out(name).search(text)
        if m:
            return " ".join(_strip_leading(m.group(1).split()))
    # A mention with two or more name parts is already full ("Hilde Claeys", "Van Damme" is not).
    if sum(w[:1].isupper() and w.lower() not in _PARTICLES for w in name.split()) >= 2:
        return name
    for m in _longer_forms(name).finditer(text):
        if _is_given_name(m.group(1)):
            return m.group(0)
    return name


# People who speak for an organisation: "een woordvoerder van Huawei Benelux" -> "Huawei Benelux".
_SPOKESPEOPLE = ("woordvoerder", "woordvoerster", "topman", "topvrouw", "directeur", "ceo", "advocaat", "advocaten",
                 "medewerker", "vertegenwoordiger", "baas", "bestuurder", "voorzitter", "manager", "juristen", "jurist")


def _organisation_of(description: str, text: str) -> str | None:
    """The organisation a spokesperson description names ("een woordvoerder van Huawei"), if any."""
    m = re.search(r"(\w+)\s+van\s+(?:de\s+|het\s+)?(" + _PART + r"(?:\s+" + _PART + r")*)", description)
    if not m or not m.group(1).lower().endswith(_SPOKESPEOPLE):
        return None
    return fullest_name(m.group(2), text)


KNOWN_VENDORS = ("Huawei", "ZTE", "Hikvision", "Dahua", "Kaspersky", "TikTok", "ByteDance", "Nuctech", "Hytera", "DJI",
                 "Tencent", "WeChat", "Xiaomi", "Lenovo", "Temu", "Shein", "Nexperia", "Wingtech", "BYD", "Quectel",
                 "Alibaba", "Mingyang", "Sungrow", "Yandex")
_VENDOR_RE = re.compile(r"(?<!\w)(?:" + "|".join(KNOWN_VENDORS) + r")(?!\w)")

def _text_names(text: str, role: str | None) -> list[str]:
    """Names in `text`, in order: vendor names for vendor descriptions, else multi-word names."""
    if role == "vendor":
        found = [m.group(0) for m in _VENDOR_RE.finditer(text)]
        if found:
            return found
    names = []
    for m in _NAME_RE.finditer(text):
        parts = _strip_leading(m.group(0).split())
        if parts and _norm(parts[0]) in _NOT_NAME:
            parts = []
        if len(parts) >= 2 or (parts and role is not None):
            names.append(" ".join(parts))
    return names


def _antecedent(mention: str, role: str | None, start: int, named: list[tuple[int, str, str]], text: str) -> str:
    """The nearest fitting earlier name for a pronoun or description."""
    same_role = [name for offset, name, r in named if offset < start and r == role and _fits(mention, r)]
    any_named = [name for offset, name, _ in named if offset < start]
    in_text = [n for n in _text_names(text[:start], role) if n]
    pronoun = len(mention.split()) == 1
    for candidates in ((same_role, any_named, in_text) if pronoun else (same_role, in_text, any_named)):
        if candidates:
            return candidates[-1]
    return mention


def resolve_speakers(article: Article) -> Article:
    """A copy of `article` whose claims' speakers carry resolved names."""
    text = article.text
    named: list[tuple[int, str, str]] = []  # (offset, resolved name, role) of earlier named speakers
    claims: list[Claim] = []
    for claim in article.claims:
        sp = claim.speaker
        if sp.text is None or sp.start is None:
            claims.append(claim)
            continue
        words = sp.text.split()
        organisation = _organisation_of(sp.text, text) if _norm(words[0]) in DETERMINERS else None
        described = is_description(sp.text)
        if organisation:
            resolved = organisation
        elif described and _norm(words[-1]) in SELF_NAMED:
            resolved = " ".join(words[1:])
        elif described:
            resolved = _antecedent(sp.text, sp.role, sp.start, named, text)
        else:
            resolved = fullest_name(sp.text, text)
            named.append((sp.start, resolved, sp.role))
        claims.append(dataclasses.replace(claim, speaker=dataclasses.replace(sp, resolved=resolved)))
    return dataclasses.replace(article, claims=tuple(claims))
