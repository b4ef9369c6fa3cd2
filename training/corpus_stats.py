"""Statistics of the built corpus, checked against the targets the corpus was written for.

Reads `training/data/*.jsonl`, prints a Markdown table with PASS/FAIL per target and
writes the same text to `training/data/STATS.md`.

    python training/corpus_stats.py              # print and write STATS.md
    python training/corpus_stats.py --no-write   # only print
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from stance.resolve import is_description  # noqa: E402
from stance.schema import ROLES, STANCES, Article, read_jsonl  # noqa: E402

DATA = ROOT / "training" / "data"
SPLITS = ("train", "dev", "test", "test-unseen-vendors")
YEARS = (2010, 2026)

CATEGORIES: dict[str, tuple[str, ...]] = {
    "telecom": ("Huawei", "ZTE", "Hytera"),
    "cameras": ("Hikvision", "Dahua", "Ezviz"),
    "scanners": ("Nuctech",),
    "antivirus": ("Kaspersky",),
    "apps": ("TikTok", "ByteDance", "WeChat", "Tencent", "Temu", "Shein", "FaceApp", "Xiaohongshu", "DeepSeek"),
    "drones": ("DJI",),
    "cloud": ("Alibaba Cloud",),
    "chips": ("Nexperia", "Wingtech", "Quectel", "Fujian Grand Chip"),
}
# Everything else (phones, laptops, inverters, buses, wind turbines, smart meters) is "other".
_CATEGORY_OF = {v.lower(): cat for cat, vendors in CATEGORIES.items() for v in vendors}

# Quote style -> its opening mark; the opening mark tells the styles apart.
QUOTE_STYLES: dict[str, re.Pattern[str]] = {
    "„…” (low-high double)": re.compile(r"„"),
    "“…” (curly double)": re.compile(r"“"),  # only counted without „ (which „…“ also closes with)
    "‘…’ (curly single)": re.compile(r"‘"),
    "\"…\" (straight double)": re.compile(r'"'),
    ",,…'' (double comma)": re.compile(r",,"),
    "«…» (guillemets)": re.compile(r"«"),
    # A straight single quote opens after a space or at the start ("camera's" is no quote).
    "'…' (straight single)": re.compile(r"(?:^|(?<=[\s(]))'(?=\S)(?!s\b)"),
}
# Some outlets appear under two names in the sources; count them once.
OUTLET_ALIASES = {"Het Financieele Dagblad": "FD", "BNR Nieuwsradio": "BNR", "Het Laatste Nieuws": "HLN",
                  "NRC Handelsblad": "NRC"}


def category(vendor: str) -> str:
    """The vendor's product category (telecom, cameras, ..., other)."""
    return _CATEGORY_OF.get(vendor.lower(), "other")


def quote_styles(text: str) -> set[str]:
    """The quote styles a claim's text uses."""
    found = {name for name, pattern in QUOTE_STYLES.items() if pattern.search(text)}
    if "„" in text:
        found.discard("“…” (curly double)")
    return found


def is_hard_negative(article: Article) -> bool:
    """An article with no `asserts_risk`/`denies_risk` claim, or with no vendor under discussion."""
    no_stance = all(c.stance == "neutral" for c in article.claims)
    return no_stance or not article.meta.get("vendors")


def is_indirect(article: Article, claim) -> bool:
    """An attributed claim whose speaker is a pronoun/description or is named outside the claim."""
    sp = claim.speaker
    if sp.text is None:
        return False
    return is_description(sp.text) or sp.start < claim.start or sp.end > claim.end


@dataclass(frozen=True)
class Row:
    """One line of the table: what is measured, its value, and the target's verdict if any."""

    measure: str
    value: str
    target: str = ""
    ok: bool | None = None

    @property
    def verdict(self) -> str:
        return "" if self.ok is None else "PASS" if self.ok else "FAIL"


def _pct(n: int, d: int) -> str:
    return f"{100 * n / d:.1f}% ({n}/{d})" if d else "n/a"


def compute(splits: Mapping[str, Sequence[Article]]) -> list[Row]:
    """The statistics table for a corpus given as split name -> articles."""
    articles = [a for arts in splits.values() for a in arts]
    claims = [(a, c) for a in articles for c in a.claims]
    rows: list[Row] = []
    for name, arts in splits.items():
        rows.append(Row(f"split {name}", f"{len(arts)} articles, {sum(len(a.claims) for a in arts)} claims"))
    rows.append(Row("articles", str(len(articles)), ">= 400", len(articles) >= 400))
    rows.append(Row("claims", str(len(claims)), ">= 6000", len(claims) >= 6000))

    vendors = Counter(v for a in articles for v in a.meta.get("vendors", []))
    rows.append(Row("vendors", str(len(vendors)), ">= 15", len(vendors) >= 15))
    by_cat: dict[str, list[str]] = {}
    for v, n in sorted(vendors.items(), key=lambda kv: (-kv[1], kv[0])):
        by_cat.setdefault(category(v), []).append(f"{v} ({n})")
    for cat in [*CATEGORIES, "other"]:
        rows.append(Row(f"vendors: {cat}", ", ".join(by_cat.get(cat, [])) or "none"))

    roles = Counter(c.speaker.role for _, c in claims)
    for role in ROLES:
        rows.append(Row(f"claims with role {role}", str(roles[role]), ">= 200", roles[role] >= 200))
    stances = Counter(c.stance for _, c in claims)
    stance_targets = {"asserts_risk": 1200, "denies_risk": 900}
    for stance in STANCES:
        target = stance_targets.get(stance)
        rows.append(Row(f"claims with stance {stance}", str(stances[stance]),
                        f">= {target}" if target else "", stances[stance] >= target if target else None))

    outlets = Counter(OUTLET_ALIASES.get(o, o) for a in articles if (o := a.meta.get("outlet")))
    rows.append(Row("outlets", f"{len(outlets)}: " + ", ".join(f"{o} ({n})" for o, n in outlets.most_common())))
    regions = Counter(a.meta.get("region", "?") for a in articles)
    rows.append(Row("regions", ", ".join(f"{r} {n}" for r, n in sorted(regions.items()))))

    years = Counter(int(str(a.meta.get("date", "0"))[:4] or 0) for a in articles)
    wanted = set(range(YEARS[0], YEARS[1] + 1))
    covered = bool(years) and set(years) <= wanted and wanted <= set(years)
    missing = sorted(wanted - set(years))
    rows.append(Row("years", f"{min(years)}-{max(years)}" + (f" (missing {missing})" if missing else "") if years else "none",
                    f"every year {YEARS[0]}-{YEARS[1]}, none outside", covered))
    rows.append(Row("articles per year", ", ".join(f"{y}: {n}" for y, n in sorted(years.items()))))

    attributed = [(a, c) for a, c in claims if c.speaker.text is not None]
    indirect = sum(is_indirect(a, c) for a, c in attributed)
    rows.append(Row("attributed claims with pronoun/description speaker or speaker outside the claim",
                    _pct(indirect, len(attributed)), ">= 25%", bool(attributed) and indirect / len(attributed) >= 0.25))
    hard = sum(is_hard_negative(a) for a in articles)
    rows.append(Row("hard-negative articles (no asserts/denies claim, or no vendor)", _pct(hard, len(articles)),
                    ">= 15%", bool(articles) and hard / len(articles) >= 0.15))
    styles = Counter(s for a, c in claims for s in quote_styles(a.claim_text(c)))
    for style in QUOTE_STYLES:
        rows.append(Row(f"claims with quote style {style}", _pct(styles[style], len(claims))))
    return rows


def render(rows: Sequence[Row]) -> str:
    """The rows as a Markdown table, with a summary line of the targets."""
    def cell(s: str) -> str:
        return s.replace("|", "\\|")

    lines = ["| measure | value | target | result |", "|---|---|---|---|"]
    lines += [f"| {cell(r.measure)} | {cell(r.value)} | {cell(r.target)} | {r.verdict} |" for r in rows]
    checked = [r for r in rows if r.ok is not None]
    failed = [r.measure for r in checked if not r.ok]
    summary = f"{len(checked) - len(failed)}/{len(checked)} targets met" + (f"; FAIL: {', '.join(failed)}" if failed else "")
    return "# Corpus statistics\n\nWritten by `python training/corpus_stats.py` from `training/data/*.jsonl`.\n\n" + "\n".join(lines) + f"\n\n{summary}\n"


def load(data: Path = DATA) -> dict[str, list[Article]]:
    """The built splits, in the usual order (a missing split is an empty one)."""
    return {name: read_jsonl(data / f"{name}.jsonl") if (data / f"{name}.jsonl").exists() else [] for name in SPLITS}


def main(argv: list[str]) -> int:
    text = render(compute(load()))
    print(text, end="")
    if "--no-write" not in argv:
        (DATA / "STATS.md").write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
