"""Build the annotated corpus (spec JSON Lines) from the project's authoring files.

Articles are written in `training/corpus_src/*.txt`, one claim per line with its
labels on the line below, so that writers never count character offsets. This
script computes the text, the offsets and the speaker spans, checks them, splits
the articles and writes `training/data/{train,dev,test,test-unseen-vendors}.jsonl`.

Authoring format (see docs/annotation-guide.md, "Writing articles"):

    === nos-2019-03-kabinet-huawei-5g
    outlet: NOS
    date: 2019-03-12
    region: NL
    vendors: Huawei
    title: Kabinet wil strengere eisen voor 5G-leveranciers

    Het kabinet komt met strengere eisen voor leveranciers van 5G.
      @ asserts_risk | government | Het kabinet
    Dat schrijft minister Grapperhaus in een brief aan de Kamer.
      @ asserts_risk | government | Grapperhaus => Ferd Grapperhaus

    "Wij nemen geen risico", zei hij.
      @ asserts_risk | government | hij => Ferd Grapperhaus

Claims on consecutive lines form one paragraph (joined by a space); a blank line
starts a new paragraph; a claim line starting with "- " or "• " is a list item
(joined by a line break). The mention is looked up as a whole word in the claim
itself, then in the previous claims (nearest first), then in the next claim;
"< mention" searches only the previous claims, "> mention" only the next claim.

    python training/build_corpus.py            # build and print the statistics
    python training/build_corpus.py --check     # only check the sources
"""

from __future__ import annotations

import hashlib
import re
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from stance.schema import ROLES, STANCES, Article, Claim, Speaker, write_jsonl  # noqa: E402

SRC = ROOT / "training" / "corpus_src"
OUT = ROOT / "training" / "data"

# Vendors kept out of train/dev/test: every article naming one goes to test-unseen-vendors.
UNSEEN_VENDORS = ("DJI", "Quectel", "Alibaba Cloud")
REQUIRED_HEADERS = ("outlet", "date", "vendors", "title")


class SourceError(ValueError):
    pass


@dataclass(frozen=True)
class _Draft:
    text: str
    stance: str
    role: str
    mention: str | None
    direction: str  # "", "<" or ">"
    resolved: str | None
    joiner: str
    lineno: int


def parse_annotation(line: str, where: str) -> tuple[str, str, str | None, str, str | None]:
    """'@ stance | role [| mention [=> resolved]]' -> (stance, role, mention, direction, resolved)."""
    parts = [p.strip() for p in line.strip()[1:].split("|")]
    if parts == [""]:
        raise SourceError(f"{where}: annotation is empty")
    if len(parts) < 2 or len(parts) > 3:
        raise SourceError(f"{where}: annotation must be '@ stance | role [| mention [=> resolved]]', got {line.strip()!r}")
    stance, role = parts[0], parts[1]
    if stance not in STANCES:
        raise SourceError(f"{where}: unknown stance {stance!r}")
    if role not in ROLES:
        raise SourceError(f"{where}: unknown role {role!r}")
    mention = resolved = None
    direction = ""
    if len(parts) == 3 and parts[2]:
        mention = parts[2]
        if "=>" in mention:
            mention, resolved = (s.strip() for s in mention.split("=>", 1))
        if mention[:1] in "<>":
            direction, mention = mention[0], mention[1:].strip()
    if role == "author" and mention:
        raise SourceError(f"{where}: role 'author' takes no speaker mention")
    if role not in ("author", "other") and not mention:
        raise SourceError(f"{where}: role {role!r} needs a speaker mention")
    return stance, role, mention, direction, resolved


def _find(mention: str, text: str, last: bool) -> int | None:
    pattern = re.compile(r"(?<!\w)" + re.escape(mention) + r"(?!\w)")
    hits = [m.start() for m in pattern.finditer(text)]
    if not hits:
        return None
    return hits[-1] if last else hits[0]


def parse_source(path: Path) -> list[tuple[dict, list[_Draft]]]:
    """Parse one authoring file into (header, claim drafts) per article."""
    articles: list[tuple[dict, list[_Draft]]] = []
    header: dict | None = None
    drafts: list[_Draft] = []
    pending: tuple[str, int, str] | None = None
    in_header = False
    gap = False
    lines = path.read_text(encoding="utf-8").splitlines()
    for lineno, line in enumerate(lines, start=1):
        where = f"{path.name}:{lineno}"
        if line.startswith("==="):
            if pending:
                raise SourceError(f"{path.name}:{pending[1]}: claim without an '@' annotation line")
            if header is not None:
                articles.append((header, drafts))
            header, drafts, in_header, gap = {"id": line[3:].strip(), "_line": lineno}, [], True, False
            continue
        if header is None:
            if line.strip():
                raise SourceError(f"{where}: text before the first '=== id' line")
            continue
        if in_header:
            if not line.strip():
                in_header = False
                continue
            key, sep, value = line.partition(":")
            if not sep:
                raise SourceError(f"{where}: header line must be 'key: value', got {line!r}")
            header[key.strip()] = value.strip()
            continue
        if not line.strip():
            if pending:
                raise SourceError(f"{path.name}:{pending[1]}: claim without an '@' annotation line")
            gap = True
            continue
        if line.lstrip().startswith("@"):
            if not pending:
                raise SourceError(f"{where}: annotation without a claim line above it")
            text, claim_line, joiner = pending
            stance, role, mention, direction, resolved = parse_annotation(line, where)
            drafts.append(_Draft(text, stance, role, mention, direction, resolved, joiner, claim_line))
            pending = None
            continue
        if pending:
            raise SourceError(f"{path.name}:{pending[1]}: claim without an '@' annotation line")
        text = line.strip()
        if not drafts:
            joiner = ""
        elif text.startswith(("- ", "• ")):
            joiner = "\n"
        else:
            joiner = "\n\n" if gap else " "
        pending, gap = (text, lineno, joiner), False
    if pending:
        raise SourceError(f"{path.name}:{pending[1]}: claim without an '@' annotation line")
    if header is not None:
        articles.append((header, drafts))
    return articles


def assemble(header: dict, drafts: list[_Draft], source: str) -> Article:
    """Join the claims into the article text and compute every offset."""
    where = f"{source}:{header['_line']} ({header['id']})"
    for key in REQUIRED_HEADERS:
        if key not in header:
            raise SourceError(f"{where}: missing header '{key}'")
    if not re.fullmatch(r"[a-z0-9][a-z0-9-]+", header["id"]):
        raise SourceError(f"{where}: id must be lowercase letters, digits and hyphens")
    if not re.fullmatch(r"(20[12]\d)-(0[1-9]|1[0-2])(-\d\d)?", header["date"]) or not 2010 <= int(header["date"][:4]) <= 2026:
        raise SourceError(f"{where}: date must be YYYY-MM[-DD] between 2010 and 2026")
    if not drafts:
        raise SourceError(f"{where}: article has no claims")
    text, spans = "", []
    for d in drafts:
        text += d.joiner
        spans.append((len(text), len(text) + len(d.text)))
        text += d.text
    claims = []
    for i, (d, (start, end)) in enumerate(zip(drafts, spans)):
        speaker = Speaker(role=d.role)
        if d.mention:
            found = None
            backwards = [(j, True) for j in range(i - 1, -1, -1)]
            if d.direction == "<":
                order = backwards
            elif d.direction == ">":
                order = [(i + 1, False)]
            else:
                order = [(i, False), *backwards, (i + 1, False)]
            for j, last in order:
                if 0 <= j < len(drafts):
                    pos = _find(d.mention, drafts[j].text, last)
                    if pos is not None:
                        found = spans[j][0] + pos
                        break
            if found is None:
                raise SourceError(f"{source}:{d.lineno}: speaker mention {d.mention!r} not found in this claim or its neighbours")
            speaker = Speaker(role=d.role, text=d.mention, start=found, end=found + len(d.mention), resolved=d.resolved or d.mention)
        claims.append(Claim(start=start, end=end, stance=d.stance, speaker=speaker))
    meta = {k: v for k, v in header.items() if k not in ("id", "title", "_line")}
    meta["vendors"] = [v.strip() for v in header["vendors"].split(",") if v.strip() and v.strip() != "-"]
    meta["source"] = source
    return Article(id=header["id"], text=text, claims=tuple(claims), title=header["title"], lang="nl", meta=meta)


def split_of(article: Article) -> str:
    """train/dev/test by a stable hash of the id (80/10/10); unseen vendors apart."""
    blob = article.text + " " + " ".join(article.meta.get("vendors", []))
    if any(re.search(r"(?<!\w)" + re.escape(v) + r"(?!\w)", blob) for v in UNSEEN_VENDORS):
        return "test-unseen-vendors"
    bucket = int(hashlib.sha1(article.id.encode()).hexdigest(), 16) % 10
    return "dev" if bucket == 0 else "test" if bucket == 1 else "train"


def build(src: Path = SRC) -> dict[str, list[Article]]:
    errors, splits, seen = [], {"train": [], "dev": [], "test": [], "test-unseen-vendors": []}, {}
    for path in sorted(src.glob("*.txt")):
        try:
            parsed = parse_source(path)
        except SourceError as exc:
            errors.append(str(exc))
            continue
        for header, drafts in parsed:
            try:
                article = assemble(header, drafts, path.name)
            except SourceError as exc:
                errors.append(str(exc))
                continue
            if article.id in seen:
                errors.append(f"{path.name}: duplicate id {article.id!r} (also in {seen[article.id]})")
                continue
            seen[article.id] = path.name
            splits[split_of(article)].append(article)
    if errors:
        raise SourceError("\n".join(errors))
    return splits


def main(argv: list[str]) -> int:
    try:
        splits = build()
    except SourceError as exc:
        print(exc, file=sys.stderr)
        return 1
    n = sum(len(v) for v in splits.values())
    print(f"{n} articles, {sum(len(a.claims) for v in splits.values() for a in v)} claims, all sources valid")
    if "--check" in argv:
        return 0
    for name, articles in splits.items():
        write_jsonl(sorted(articles, key=lambda a: a.id), OUT / f"{name}.jsonl")
        print(f"  {name}: {len(articles)} articles -> {OUT / (name + '.jsonl')}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
