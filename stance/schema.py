"""Records of `stance`: articles, claims and speakers, and their JSON Lines form.

The types and the validation follow `spec/labels.md`: an article is cut into
claims (character spans, in text order, never overlapping); each claim has a
stance toward vendor risk and a speaker with a role.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

STANCES: tuple[str, ...] = ("asserts_risk", "denies_risk", "neutral")
ROLES: tuple[str, ...] = (
    "vendor",
    "government",
    "eu",
    "security_agency",
    "industry",
    "expert",
    "author",
    "other",
)

# Top-level fields this module interprets; anything else is kept in `Article.meta`.
_CORE_FIELDS = ("id", "lang", "title", "text", "claims")


@dataclass(frozen=True)
class Speaker:
    """Who makes a claim: the mention in the text, the name it refers to, and a role."""

    role: str = "author"
    text: str | None = None
    start: int | None = None
    end: int | None = None
    resolved: str | None = None

    @property
    def is_null(self) -> bool:
        """True when the claim has no speaker mention (the journalist's own claim)."""
        return self.text is None


@dataclass(frozen=True)
class Claim:
    """One claim: a character span of the article with its stance and speaker.

    `stance_probs` and `role_probs` are filled in by a model (label -> probability);
    gold records leave them empty. `truncated` records that the model saw only part
    of the claim because it was longer than its input window.
    """

    start: int
    end: int
    stance: str = "neutral"
    speaker: Speaker = field(default_factory=Speaker)
    stance_probs: Mapping[str, float] | None = None
    role_probs: Mapping[str, float] | None = None
    speaker_score: float | None = None
    truncated: bool = False


@dataclass(frozen=True)
class Article:
    """An article's text and its claims; `meta` keeps any other fields of the record."""

    id: str
    text: str
    claims: tuple[Claim, ...] = ()
    title: str | None = None
    lang: str = "nl"
    meta: Mapping[str, Any] = field(default_factory=dict)

    def claim_text(self, claim: Claim) -> str:
        """The characters of `claim` in this article."""
        return self.text[claim.start : claim.end]


class RecordError(ValueError):
    """A record that breaks the spec: says where, which field, and what is wrong."""

    def __init__(self, where: str, field_name: str, problem: str):
        self.where = where
        self.field = field_name
        self.problem = problem
        super().__init__(f"{where}: field '{field_name}': {problem}")


class CorpusError(ValueError):
    """Several bad records in one file; `errors` lists each of them."""

    def __init__(self, path: str | os.PathLike, errors: list[RecordError]):
        self.path = str(path)
        self.errors = errors
        shown = "\n".join(f"  {e}" for e in errors[:20])
        more = f"\n  ... and {len(errors) - 20} more" if len(errors) > 20 else ""
        super().__init__(f"{self.path}: {len(errors)} invalid record(s):\n{shown}{more}")


# ---------------------------------------------------------------------------
# dict <-> dataclass


def _speaker_from_dict(obj: Any, where: str, text: str) -> Speaker:
    if obj is None:
        return Speaker()
    if not isinstance(obj, Mapping):
        raise RecordError(where, "speaker", f"must be an object, got {type(obj).__name__}")
    role = obj.get("role", "author")
    if role not in ROLES:
        raise RecordError(where, "speaker.role", f"unknown role {role!r}; expected one of {', '.join(ROLES)}")
    mention, start, end = obj.get("text"), obj.get("start"), obj.get("end")
    resolved = obj.get("resolved")
    if mention is None:
        if start is not None or end is not None:
            raise RecordError(where, "speaker.start", "offsets given for a null speaker text")
        if resolved is not None:
            raise RecordError(where, "speaker.resolved", "resolved name given for a null speaker text")
        if role != "author" and role != "other":
            raise RecordError(where, "speaker.role", f"role {role!r} needs a speaker mention; a claim without one is 'author' or 'other'")
        return Speaker(role=role)
    if not isinstance(mention, str) or not mention.strip():
        raise RecordError(where, "speaker.text", "must be a non-empty string or null")
    if role == "author":
        raise RecordError(where, "speaker.role", "role 'author' means no speaker, but a speaker mention is given")
    for name, value in (("start", start), ("end", end)):
        if not isinstance(value, int) or isinstance(value, bool):
            raise RecordError(where, f"speaker.{name}", f"must be an integer offset, got {value!r}")
    if not 0 <= start < end <= len(text):
        raise RecordError(where, "speaker.start", f"span [{start}, {end}) lies outside the text (length {len(text)})")
    if text[start:end] != mention:
        raise RecordError(where, "speaker.text", f"{mention!r} does not match the text at [{start}, {end}): {text[start:end]!r}")
    if resolved is not None and (not isinstance(resolved, str) or not resolved.strip()):
        raise RecordError(where, "speaker.resolved", "must be a non-empty string or null")
    return Speaker(role=role, text=mention, start=start, end=end, resolved=resolved if resolved is not None else mention)


def _probs_from_dict(obj: Any, labels: tuple[str, ...], where: str, name: str) -> Mapping[str, float] | None:
    if obj is None:
        return None
    if not isinstance(obj, Mapping) or set(obj) - set(labels):
        raise RecordError(where, name, f"must map labels of {labels} to probabilities")
    return {k: float(v) for k, v in obj.items()}


def _claim_from_dict(obj: Any, where: str, text: str) -> Claim:
    if not isinstance(obj, Mapping):
        raise RecordError(where, "claims", f"each claim must be an object, got {type(obj).__name__}")
    start, end = obj.get("start"), obj.get("end")
    for name, value in (("start", start), ("end", end)):
        if not isinstance(value, int) or isinstance(value, bool):
            raise RecordError(where, name, f"must be an integer offset, got {value!r}")
    if not 0 <= start < end <= len(text):
        raise RecordError(where, "start", f"claim span [{start}, {end}) is empty or outside the text (length {len(text)})")
    stance = obj.get("stance", "neutral")
    if stance not in STANCES:
        raise RecordError(where, "stance", f"unknown stance {stance!r}; expected one of {', '.join(STANCES)}")
    return Claim(
        start=start,
        end=end,
        stance=stance,
        speaker=_speaker_from_dict(obj.get("speaker"), where, text),
        stance_probs=_probs_from_dict(obj.get("stance_probs"), STANCES, where, "stance_probs"),
        role_probs=_probs_from_dict(obj.get("role_probs"), ROLES, where, "role_probs"),
        speaker_score=obj.get("speaker_score"),
        truncated=bool(obj.get("truncated", False)),
    )


def article_from_dict(obj: Any, where: str = "record") -> Article:
    """Build an `Article` from a spec record, raising `RecordError` on the first problem."""
    if not isinstance(obj, Mapping):
        raise RecordError(where, "(record)", f"must be a JSON object, got {type(obj).__name__}")
    rid = obj.get("id")
    if not isinstance(rid, str) or not rid:
        raise RecordError(where, "id", f"must be a non-empty string, got {rid!r}")
    where = f"{where} (id {rid!r})"
    text = obj.get("text")
    if not isinstance(text, str):
        raise RecordError(where, "text", f"must be a string, got {type(text).__name__}")
    raw_claims = obj.get("claims", [])
    if not isinstance(raw_claims, list):
        raise RecordError(where, "claims", "must be a list")
    claims = []
    for i, raw in enumerate(raw_claims):
        claim = _claim_from_dict(raw, f"{where} claim {i}", text)
        if claims and claim.start < claims[-1].end:
            raise RecordError(
                f"{where} claim {i}",
                "start",
                f"claim [{claim.start}, {claim.end}) overlaps or precedes claim {i - 1} [{claims[-1].start}, {claims[-1].end}); claims must be in text order without overlap",
            )
        claims.append(claim)
    title = obj.get("title")
    lang = obj.get("lang", "nl")
    meta = {k: v for k, v in obj.items() if k not in _CORE_FIELDS}
    return Article(id=rid, text=text, claims=tuple(claims), title=title, lang=lang, meta=meta)


def _speaker_to_dict(speaker: Speaker) -> dict[str, Any]:
    return {"text": speaker.text, "start": speaker.start, "end": speaker.end, "resolved": speaker.resolved, "role": speaker.role}


def claim_to_dict(claim: Claim) -> dict[str, Any]:
    """The spec's JSON form of a claim; model scores are added only when present."""
    out: dict[str, Any] = {"start": claim.start, "end": claim.end, "stance": claim.stance, "speaker": _speaker_to_dict(claim.speaker)}
    if claim.stance_probs is not None:
        out["stance_probs"] = dict(claim.stance_probs)
    if claim.role_probs is not None:
        out["role_probs"] = dict(claim.role_probs)
    if claim.speaker_score is not None:
        out["speaker_score"] = claim.speaker_score
    if claim.truncated:
        out["truncated"] = True
    return out


def article_to_dict(article: Article) -> dict[str, Any]:
    """The spec's JSON form of an article (extra fields from `meta` come after the core ones)."""
    out: dict[str, Any] = {"id": article.id, "lang": article.lang, "title": article.title, "text": article.text}
    out.update({k: v for k, v in article.meta.items() if k not in _CORE_FIELDS})
    out["claims"] = [claim_to_dict(c) for c in article.claims]
    return out


def uncovered(article: Article) -> list[tuple[int, int]]:
    """Spans of non-space characters that lie in no claim (the spec wants none)."""
    covered = bytearray(len(article.text))
    for claim in article.claims:
        covered[claim.start : claim.end] = b"\x01" * (claim.end - claim.start)
    gaps: list[tuple[int, int]] = []
    for i, ch in enumerate(article.text):
        if not covered[i] and not ch.isspace():
            if gaps and gaps[-1][1] == i:
                gaps[-1] = (gaps[-1][0], i + 1)
            else:
                gaps.append((i, i + 1))
    return gaps


# ---------------------------------------------------------------------------
# JSON Lines


@dataclass(frozen=True)
class Line:
    """One line of a JSON Lines file: its number and either an article or the error."""

    number: int
    article: Article | None
    error: RecordError | None


def scan_jsonl(path: str | os.PathLike) -> Iterator[Line]:
    """Read a JSON Lines file of spec records one line at a time, never stopping at a bad one.

    Each non-blank line yields a `Line` holding the article or the reason it is invalid
    (invalid UTF-8, invalid JSON, a truncated last line, a field that breaks the spec).
    """
    name = str(path)
    with open(path, "rb") as fh:
        for number, raw in enumerate(fh, start=1):
            where = f"{name} line {number}"
            if not raw.strip():
                continue
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                yield Line(number, None, RecordError(where, "(line)", f"invalid UTF-8 at byte {exc.start}"))
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                problem = f"invalid JSON: {exc.msg} at column {exc.colno}"
                if not raw.endswith(b"\n"):
                    problem = f"truncated last line ({problem}); the file may have been cut off while being written"
                yield Line(number, None, RecordError(where, "(line)", problem))
                continue
            try:
                yield Line(number, article_from_dict(obj, where), None)
            except RecordError as exc:
                yield Line(number, None, exc)


def read_jsonl(path: str | os.PathLike) -> list[Article]:
    """Read every article of a JSON Lines file; raise `CorpusError` listing all bad lines."""
    articles, errors = [], []
    for line in scan_jsonl(path):
        if line.error is not None:
            errors.append(line.error)
        else:
            articles.append(line.article)
    if errors:
        raise CorpusError(path, errors)
    return articles


def dumps(article: Article) -> str:
    """One JSON Lines line (without the newline) for `article`."""
    return json.dumps(article_to_dict(article), ensure_ascii=False)


def write_jsonl(articles: Iterable[Article], path: str | os.PathLike) -> int:
    """Write articles as JSON Lines atomically (temp file, then rename); return how many."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    count = 0
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            for article in articles:
                fh.write(dumps(article) + "\n")
                count += 1
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return count
