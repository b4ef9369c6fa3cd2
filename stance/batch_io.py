"""The records side of batch jobs: reading JSONL / CSV / Parquet, analysing a chunk, writing a part.

Readers yield cheap raw items (a line, a CSV row, a Parquet value) so a job can skip
parts it does not run without parsing them; `parse_record` turns a raw item into a
`Record` holding either a text to analyse or the reason it cannot be (never raising).
`analyze_records` analyses a chunk in one `Analyzer.analyze_many` call; `PartWriter`
writes a part so that it exists whole or not at all. `stance.batch` runs the job.
"""

from __future__ import annotations

import csv
import itertools
import json
import os
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stance.schema import ROLES, STANCES, Article, article_to_dict

FORMATS = ("jsonl", "parquet")
MAX_RECORD_BYTES = 64 << 20  # a longer line is an error record, not a memory spike
_EXTENSIONS = {".jsonl": "jsonl", ".json": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}


class JobError(RuntimeError):
    """A job that cannot start: bad input file, or OUTDIR holding another job's output."""


@dataclass(frozen=True)
class JobConfig:
    """One batch job. Fields marked (result) decide the output and are checked on restart."""

    inputs: tuple[str, ...]              # (result) files to read, or "-" for JSON Lines on stdin
    output_dir: str
    model: str | None = None             # (result) model directory or hub id; None: the bundled model
    id_column: str = "id"                # (result) missing or empty ids become "file:line" / "file:row"
    text_column: str = "text"            # (result)
    output_format: str = "jsonl"         # (result) jsonl | parquet
    precision: str = "fp32"              # (result) fp32 | bf16 | int8
    chunk_size: int = 64                 # (result) articles per analyze_many call (the length-sorting window)
    part_size: int = 1024                # (result) input records per output part
    max_claims: int = 1000               # (result) claims analysed per article at most; longer texts are cut and flagged
    device: str = "auto"
    batch_size: int | None = None        # windows per forward pass (None: 8 on the CPU, 64 on a GPU)
    progress: bool = True
    overwrite: bool = False              # replace OUTDIR's job when its settings differ


@dataclass(frozen=True)
class Record:
    """One input record: its text and id, or why it cannot be analysed; `where` is file and line/row."""

    where: dict
    id: str | None = None
    text: str | None = None
    title: str | None = None
    lang: str | None = None
    error: str | None = None


# ---------------------------------------------------------------------------
# Reading: raw items are cheap to skip; parsing happens only for parts this rank runs.


def input_format(path: str) -> str:
    """'jsonl', 'csv' or 'parquet' from the file name ('-' is JSON Lines on stdin)."""
    if path == "-":
        return "jsonl"
    fmt = _EXTENSIONS.get(Path(path).suffix.lower())
    if fmt is None:
        raise JobError(f"{path}: unknown input format; name the file .jsonl, .csv or .parquet")
    return fmt


class _Bad(str):
    """A raw item the reader could not even split off cleanly; the string is the reason."""


def _unicode_problem(value: str) -> str | None:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        return f"invalid UTF-8 (or an unpaired surrogate) at character {exc.start}"
    return None


def _raw_jsonl(path: str) -> Iterator[tuple[dict, Any]]:
    fh = sys.stdin.buffer if path == "-" else open(path, "rb")
    name = "<stdin>" if path == "-" else path
    try:
        for number in itertools.count(1):
            raw = fh.readline(MAX_RECORD_BYTES + 1)
            if not raw:
                return
            if len(raw) > MAX_RECORD_BYTES and not raw.endswith(b"\n"):
                while (rest := fh.readline(1 << 20)) and not rest.endswith(b"\n"):
                    pass
                yield {"file": name, "line": number}, _Bad(f"line longer than {MAX_RECORD_BYTES} bytes")
            elif raw.strip():
                yield {"file": name, "line": number}, raw
    finally:
        if fh is not sys.stdin.buffer:
            fh.close()


def _raw_csv(path: str, cfg: JobConfig) -> Iterator[tuple[dict, Any]]:
    csv.field_size_limit(max(csv.field_size_limit(), MAX_RECORD_BYTES))  # default 128 KiB < a long article
    # surrogateescape keeps invalid bytes as lone surrogates: the row becomes an error, the file goes on.
    with open(path, encoding="utf-8-sig", errors="surrogateescape", newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader, None) or []
        if cfg.text_column not in header:
            raise JobError(f"{path}: no column {cfg.text_column!r} (columns: {header}); pass --text-column")
        for row_no in itertools.count(1):
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                yield {"file": path, "row": row_no, "line": reader.line_num}, _Bad(f"unreadable CSV row: {exc}")
                continue
            yield {"file": path, "row": row_no, "line": reader.line_num}, (header, row)


def _raw_parquet(path: str, cfg: JobConfig) -> Iterator[tuple[dict, Any]]:
    import pyarrow.parquet as pq

    pf = pq.ParquetFile(path)
    names = pf.schema_arrow.names
    if cfg.text_column not in names:
        raise JobError(f"{path}: no column {cfg.text_column!r} (columns: {names}); pass --text-column")
    columns = [cfg.text_column] + ([cfg.id_column] if cfg.id_column in names else [])
    row = 0
    for batch in pf.iter_batches(batch_size=256, columns=columns):
        texts = batch.column(0).to_pylist()
        ids = batch.column(1).to_pylist() if batch.num_columns > 1 else [None] * len(texts)
        for text, rid in zip(texts, ids):
            row += 1
            yield {"file": path, "row": row}, ({cfg.text_column: text, cfg.id_column: rid}, None)


def raw_records(path: str, cfg: JobConfig) -> Iterator[tuple[dict, Any]]:
    """(where, raw) for each record of one input, in order; blank JSONL lines are not records."""
    fmt = input_format(path)
    if fmt == "jsonl":
        return _raw_jsonl(path)
    return _raw_csv(path, cfg) if fmt == "csv" else _raw_parquet(path, cfg)


def parse_record(where: dict, raw: Any, cfg: JobConfig) -> Record:
    """A `Record` from one raw item: the text and id to analyse, or the reason it is an error."""
    if isinstance(raw, _Bad):
        return Record(where, error=str(raw))
    if isinstance(raw, bytes):
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            return Record(where, error=f"invalid UTF-8 at byte {exc.start}")
        try:
            obj = json.loads(line.lstrip("\ufeff"))
        except json.JSONDecodeError as exc:
            return Record(where, error=f"invalid JSON: {exc.msg} at column {exc.colno}")
        if not isinstance(obj, dict):
            return Record(where, error=f"a record must be a JSON object, got {type(obj).__name__}")
    elif isinstance(raw[1], list):  # CSV: (header, row)
        header, row = raw
        if len(row) != len(header):
            return Record(where, error=f"row has {len(row)} fields, the header {len(header)}")
        obj = dict(zip(header, row))
    else:
        obj = raw[0]
    text, rid = obj.get(cfg.text_column), obj.get(cfg.id_column)
    if isinstance(rid, (int, float)) and not isinstance(rid, bool):
        rid = str(rid)
    if rid is not None and not isinstance(rid, str):
        return Record(where, error=f"{cfg.id_column!r} must be a string or number, got {type(rid).__name__}")
    if not rid:  # missing or empty: the input position identifies the record
        rid = f"{Path(where['file']).name}:{where.get('row', where.get('line'))}"
    if problem := _unicode_problem(rid):
        return Record(where, error=f"{cfg.id_column!r}: {problem}")
    if isinstance(text, bytes):  # a binary Parquet column
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            return Record(where, rid, error=f"invalid UTF-8 at byte {exc.start} of {cfg.text_column!r}")
    if cfg.text_column not in obj:
        return Record(where, rid, error=f"no {cfg.text_column!r} field (name the text field with --text-column)")
    if not isinstance(text, str):
        return Record(where, rid, error=f"{cfg.text_column!r} must be a string, got {'null' if text is None else type(text).__name__}")
    if problem := _unicode_problem(text):
        return Record(where, rid, error=f"{cfg.text_column!r}: {problem}")
    title, lang = obj.get("title"), obj.get("lang")
    return Record(where, id=rid, text=text.lstrip("\ufeff"), title=title if isinstance(title, str) else None,
                  lang=lang if isinstance(lang, str) else None)


# ---------------------------------------------------------------------------
# Analysis of one chunk


_DUTCH = frozenset("de het een en van niet dat zijn voor met ook naar maar bij er aan om te op wordt worden zegt volgens".split())
_OTHER = frozenset("the and of to is that for with was are it on this les des est und der die nicht ist".split())


def looks_dutch(text: str) -> bool | None:
    """Whether Dutch function words outnumber English/French/German ones; None under 8 words."""
    words = re.findall(r"[^\W\d_]+", text[:5000].lower())
    if len(words) < 8:
        return None
    nl = sum(w in _DUTCH for w in words)
    return nl > 0 and nl >= sum(w in _OTHER for w in words)


def _capped(text: str, max_claims: int) -> int:
    """How many characters to analyse: all, or up to the end of the max_claims-th claim."""
    from stance.segment import segment

    spans = segment(text)
    return len(text) if len(spans) <= max_claims else spans[max_claims - 1][1]


def analyze_records(analyzer, records: list[Record], max_claims: int) -> list[tuple[Record, Article | None, str | None]]:
    """Analyse good records in one `analyze_many` call: (record, article, error) per record, in order.

    A chunk that fails is retried article by article, so one bad text costs only itself;
    if every article fails the exception propagates (the model, not the data, is broken).
    """
    good = [r for r in records if r.error is None]
    cuts = [_capped(r.text, max_claims) for r in good]
    try:
        analysed = analyzer.analyze_many([r.text[:c] for r, c in zip(good, cuts)], ids=[r.id for r in good])
        failures: list[str | None] = [None] * len(good)
    except Exception:  # noqa: BLE001 - find the record that broke the chunk
        analysed, failures, last = [], [], None
        for r, c in zip(good, cuts):
            try:
                analysed.append(analyzer.analyze_many([r.text[:c]], ids=[r.id])[0])
                failures.append(None)
            except Exception as exc:  # noqa: BLE001
                last = exc
                analysed.append(None)
                failures.append(f"analysis failed: {type(exc).__name__}: {exc}")
        if last is not None and all(a is None for a in analysed):
            raise last
    results = iter(zip(cuts, analysed, failures))
    out = []
    for r in records:
        if r.error is not None:
            out.append((r, None, r.error))
            continue
        c, a, failure = next(results)
        if a is None:
            out.append((r, None, failure))
            continue
        flags = [] if looks_dutch(r.text) is not False else ["not_dutch"]
        meta: dict[str, Any] = {"input": r.where}
        if c < len(r.text):
            flags.append("claims_capped")
            meta["analysed_chars"] = c
        if flags:
            meta["flags"] = flags
        out.append((r, Article(id=r.id, text=r.text, claims=a.claims, title=r.title, lang=r.lang or "nl", meta=meta), None))
    return out


def error_record(record: Record, reason: str) -> dict:
    """The errors.jsonl line of a record: where it is, its id if known, and why it was not analysed."""
    return {**record.where, "id": record.id, "reason": reason}


# ---------------------------------------------------------------------------
# Output: parts written atomically, Parquet with a fixed schema so parts concatenate


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # not possible on every platform
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomic(path: Path, text: str) -> None:
    """Write a small text file so it exists whole or not at all (temp file, fsync, rename)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def parquet_schema():
    """The Arrow schema of output parts: the spec record, claims as a list of structs."""
    import pyarrow as pa

    s, i, d = pa.string(), pa.int64(), pa.float64()
    speaker = pa.struct([("text", s), ("start", i), ("end", i), ("resolved", s), ("role", s)])
    claim = pa.struct([("start", i), ("end", i), ("stance", s), ("speaker", speaker),
                       ("stance_probs", pa.struct([(k, d) for k in STANCES])), ("role_probs", pa.struct([(k, d) for k in ROLES])),
                       ("speaker_score", d), ("truncated", pa.bool_())])
    where = pa.struct([("file", s), ("line", i), ("row", i)])
    return pa.schema([("id", s), ("lang", s), ("title", s), ("text", s), ("input", where), ("flags", pa.list_(s)),
                      ("analysed_chars", i), ("claims", pa.list_(claim))])


def arrow_table(articles: list[Article]):
    """Articles as an Arrow table of `parquet_schema()`."""
    import pyarrow as pa

    return pa.Table.from_pylist([arrow_row(a) for a in articles], schema=parquet_schema())


def arrow_row(article: Article) -> dict:
    """An article's spec record shaped for `parquet_schema()` (every claim has `truncated`)."""
    row = article_to_dict(article)
    row["claims"] = [{**c, "truncated": c.get("truncated", False)} for c in row["claims"]]
    return row


class PartWriter:
    """Streams one part to a temp file; `commit` fsyncs it and renames it into place."""

    def __init__(self, path: Path, fmt: str):
        self.path, self.fmt = path, fmt
        self.tmp = path.with_name(f".{path.name}.tmp")  # one rank runs a part at a time; a rerun truncates it
        if fmt == "parquet":
            import pyarrow.parquet as pq

            self._pq = pq.ParquetWriter(self.tmp, parquet_schema())
        else:
            self._fh = open(self.tmp, "w", encoding="utf-8", newline="\n")

    def write(self, articles: list[Article]) -> None:
        if self.fmt == "parquet":
            self._pq.write_table(arrow_table(articles))
        else:
            self._fh.writelines(json.dumps(article_to_dict(a), ensure_ascii=False) + "\n" for a in articles)

    def commit(self) -> None:
        if self.fmt == "parquet":
            self._pq.close()
            with open(self.tmp, "rb+") as fh:
                os.fsync(fh.fileno())
        else:
            self._fh.flush()
            os.fsync(self._fh.fileno())
            self._fh.close()
        os.replace(self.tmp, self.path)
        _fsync_dir(self.path.parent)
