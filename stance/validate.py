"""Corpus checks beyond a single record: coverage, trimming, duplicates and split leaks.

`validate_files` is what `stance validate` and CI run over `training/data/*.jsonl`.
Each problem is one line naming the file, the line, the article id and the field,
in the same form as `RecordError`, so that it can be fixed without searching.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from stance.schema import Article, RecordError, scan_jsonl, uncovered

# Vendors held out of train/dev/test (the same list as training/build_corpus.py).
UNSEEN_VENDORS: tuple[str, ...] = ("DJI", "Quectel", "Alibaba Cloud")
UNSEEN_FILE = "test-unseen-vendors.jsonl"


@dataclass(frozen=True)
class _Seen:
    path: str
    line: int
    id: str


def _where(path: str, line: int, article_id: str | None = None) -> str:
    where = f"{path} line {line}"
    return f"{where} (id {article_id!r})" if article_id is not None else where


def _problem(path: str, line: int, article_id: str | None, field_name: str, problem: str) -> str:
    return str(RecordError(_where(path, line, article_id), field_name, problem))


def _norm_text(text: str) -> str:
    return " ".join(text.split())


def _short(text: str, limit: int = 60) -> str:
    text = _norm_text(text)
    return repr(text if len(text) <= limit else text[: limit - 3] + "...")


def _article_problems(path: str, line: int, article: Article) -> list[str]:
    """Coverage and trimming of one valid record."""
    problems = []
    for start, end in _merged(uncovered(article), article.text):
        problems.append(_problem(path, line, article.id, "claims",
                                 f"characters [{start}, {end}) {_short(article.text[start:end])} lie in no claim; "
                                 "every non-space character must belong to a claim (add a claim or extend one)"))
    for i, claim in enumerate(article.claims):
        span = article.text[claim.start : claim.end]
        if span != span.strip():
            problems.append(_problem(path, line, article.id, f"claims[{i}].start/end",
                                     f"claim [{claim.start}, {claim.end}) {_short(span)} begins or ends with white space; "
                                     "move the offsets onto its first and last visible character"))
    return problems


def _merged(gaps: list[tuple[int, int]], text: str) -> list[tuple[int, int]]:
    """Join gaps separated only by white space, so an uncovered sentence is one problem."""
    out: list[tuple[int, int]] = []
    for start, end in gaps:
        if out and not text[out[-1][1] : start].strip():
            out[-1] = (out[-1][0], end)
        else:
            out.append((start, end))
    return out


def _names(vendor: str) -> re.Pattern[str]:
    return re.compile(r"(?<!\w)" + re.escape(vendor) + r"(?!\w)")


def validate_files(paths: list[str | os.PathLike]) -> list[str]:
    """Check corpus files together and return every problem found (an empty list when valid).

    Checks each record against the spec (`scan_jsonl`), full coverage of non-space
    characters, claims without surrounding white space, duplicate ids and duplicate
    texts within and across the files (so the splits are disjoint), and, when a file
    named `test-unseen-vendors.jsonl` is among them, that none of its held-out vendors
    is named in the other files.
    """
    problems: list[str] = []
    ids: dict[str, _Seen] = {}
    texts: dict[str, _Seen] = {}
    loaded: list[tuple[str, int, Article]] = []
    for raw_path in paths:
        path = str(raw_path)
        if not Path(path).is_file():
            problems.append(_problem(path, 0, None, "(file)", "no such file"))
            continue
        for line in scan_jsonl(path):
            if line.error is not None:
                problems.append(str(line.error))
                continue
            article = line.article
            loaded.append((path, line.number, article))
            problems.extend(_article_problems(path, line.number, article))
            here = _Seen(path, line.number, article.id)
            for key, table, field_name in ((article.id, ids, "id"), (_norm_text(article.text), texts, "text")):
                first = table.get(key)
                if first is None:
                    table[key] = here
                elif first.path == path:
                    problems.append(_problem(path, line.number, article.id, field_name,
                                             f"duplicate {field_name}: also at line {first.line} (id {first.id!r}); remove one of them"))
                else:
                    problems.append(_problem(path, line.number, article.id, field_name,
                                             f"same {field_name} as {first.path} line {first.line} (id {first.id!r}); "
                                             "splits must be disjoint: keep the article in one file only"))
    problems.extend(_unseen_vendor_problems(loaded))
    return problems


def _unseen_vendor_problems(loaded: list[tuple[str, int, Article]]) -> list[str]:
    unseen = [(p, n, a) for p, n, a in loaded if Path(p).name == UNSEEN_FILE]
    if not unseen:
        return []
    others = [(p, n, a) for p, n, a in loaded if Path(p).name != UNSEEN_FILE]
    # A vendor that the other files list as their own subject is seen by definition
    # (an unseen-vendor article may also mention Huawei); the fixed three never are.
    seen_vendors = {v for _, _, a in others for v in _vendors(a)}
    held_out = {v: f"{p} line {n}" for p, n, a in unseen for v in _vendors(a) if v not in seen_vendors}
    held_out.update({v: "the fixed unseen-vendor list" for v in UNSEEN_VENDORS})
    patterns = {v: _names(v) for v in held_out}
    problems = []
    for path, number, article in others:
        fields = (("text", article.text), ("title", article.title or ""), ("vendors", ", ".join(_vendors(article))))
        for vendor, pattern in patterns.items():
            for field_name, value in fields:
                if pattern.search(value):
                    problems.append(_problem(path, number, article.id, field_name,
                                             f"names unseen vendor {vendor!r} (held out by {held_out[vendor]}); "
                                             f"articles naming it belong in {UNSEEN_FILE} only"))
                    break
    return problems


def _vendors(article: Article) -> list[str]:
    value = article.meta.get("vendors") or []
    if isinstance(value, str):
        value = value.split(",")
    return [v.strip() for v in value if isinstance(v, str) and v.strip() and v.strip() != "-"]
