"""Label Studio tasks <-> spec records, for annotating and correcting articles in Label Studio.

A task holds one article (`data.text`, `data.id`, and its title, language and other
fields). Its claims are `labels` regions ("Claim"); each claim region carries, under
the same region id, a `choices` result for the stance, one for the role and a
`textarea` result for the resolved speaker name. A speaker mention is a `labels`
region of its own ("Speaker"), linked to each claim it speaks for by a relation
(speaker -> claim, label "says"). The labelling config that produces exactly these
results is `LABEL_CONFIG`, also printed in docs/label-studio.md.

    export_labelstudio("dev.jsonl", "tasks.json")                 # gold as annotations
    export_labelstudio("raw.jsonl", "tasks.json", model="models/stance-mini-nl")
    import_labelstudio("export.json", "corrected.jsonl")
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from stance.schema import (
    ROLES,
    STANCES,
    Article,
    CorpusError,
    RecordError,
    article_from_dict,
    article_to_dict,
    read_jsonl,
    write_jsonl,
)

TO_NAME = "text"
CLAIM, SPEAKER, STANCE, ROLE, RESOLVED = "claim", "speaker", "stance", "role", "resolved"
CLAIM_LABEL, SPEAKER_LABEL, RELATION_LABEL = "Claim", "Speaker", "says"

LABEL_CONFIG = f"""<View>
  <Header value="$title"/>
  <Labels name="{CLAIM}" toName="{TO_NAME}" choice="single">
    <Label value="{CLAIM_LABEL}" background="#8ecae6"/>
  </Labels>
  <Labels name="{SPEAKER}" toName="{TO_NAME}" choice="single">
    <Label value="{SPEAKER_LABEL}" background="#ffb703"/>
  </Labels>
  <Relations>
    <Relation value="{RELATION_LABEL}"/>
  </Relations>
  <Text name="{TO_NAME}" value="$text" granularity="symbol"/>
  <View visibleWhen="region-selected" whenTagName="{TO_NAME}" whenLabelValue="{CLAIM_LABEL}">
    <Header value="Stance toward the vendor's security risk"/>
    <Choices name="{STANCE}" toName="{TO_NAME}" perRegion="true" choice="single" showInline="true">
{chr(10).join(f'      <Choice value="{s}"/>' for s in STANCES)}
    </Choices>
    <Header value="Role of the speaker"/>
    <Choices name="{ROLE}" toName="{TO_NAME}" perRegion="true" choice="single" showInline="true">
{chr(10).join(f'      <Choice value="{r}"/>' for r in ROLES)}
    </Choices>
    <Header value="Resolved speaker name (empty: same as the mention, or no speaker)"/>
    <TextArea name="{RESOLVED}" toName="{TO_NAME}" perRegion="true" maxSubmissions="1" editable="true" rows="1"/>
  </View>
</View>
"""

_DATA_CORE = ("id", "text", "title", "lang", "meta")


# ---------------------------------------------------------------------------
# export


def _span(text: str, start: int, end: int) -> dict[str, Any]:
    return {"start": start, "end": end, "text": text[start:end]}


def article_results(article: Article, with_scores: bool = False) -> list[dict[str, Any]]:
    """Label Studio `result` items for an article's claims, speakers and their relations."""
    text, results, relations = article.text, [], []
    speaker_ids: dict[tuple[int, int], str] = {}
    for i, claim in enumerate(article.claims):
        rid = f"{CLAIM}-{i}"
        span = _span(text, claim.start, claim.end)

        def item(from_name: str, type_: str, value: dict[str, Any], score: float | None = None) -> dict[str, Any]:
            out = {"id": rid, "from_name": from_name, "to_name": TO_NAME, "type": type_, "origin": "manual", "value": value}
            if with_scores and score is not None:
                out["score"] = score
            return out

        results.append(item(CLAIM, "labels", {**span, "labels": [CLAIM_LABEL]}))
        stance_score = (claim.stance_probs or {}).get(claim.stance)
        results.append(item(STANCE, "choices", {**span, "choices": [claim.stance]}, stance_score))
        sp = claim.speaker
        results.append(item(ROLE, "choices", {**span, "choices": [sp.role]}, (claim.role_probs or {}).get(sp.role)))
        if sp.text is None or sp.start is None or sp.end is None or sp.start >= sp.end:
            continue  # an empty predicted span cannot be drawn; the annotator adds the speaker
        # The textarea's value.text is its list of entries; Label Studio keeps start/end beside it.
        results.append(item(RESOLVED, "textarea", {"start": claim.start, "end": claim.end, "text": [sp.resolved or sp.text]}))
        key = (sp.start, sp.end)
        if key not in speaker_ids:
            speaker_ids[key] = f"{SPEAKER}-{len(speaker_ids)}"
            sitem = {"id": speaker_ids[key], "from_name": SPEAKER, "to_name": TO_NAME, "type": "labels", "origin": "manual",
                     "value": {**_span(text, sp.start, sp.end), "labels": [SPEAKER_LABEL]}}
            if with_scores and claim.speaker_score is not None:
                sitem["score"] = claim.speaker_score
            results.append(sitem)
        relations.append({"from_id": speaker_ids[key], "to_id": rid, "type": "relation", "direction": "right",
                          "labels": [RELATION_LABEL]})
    return results + relations


def article_to_task(article: Article, prediction: Article | None = None, model_version: str | None = None,
                    claims_as: str = "annotations") -> dict[str, Any]:
    """One Label Studio task: the article as data, its claims as annotations or predictions.

    `prediction` (a model's output for the same text) is added as a pre-annotation.
    """
    if claims_as not in ("annotations", "predictions"):
        raise ValueError(f"claims_as must be 'annotations' or 'predictions', got {claims_as!r}")
    record = article_to_dict(article)
    data = {"id": article.id, "text": article.text, "title": article.title, "lang": article.lang,
            "meta": {k: v for k, v in record.items() if k not in ("id", "lang", "title", "text", "claims")}}
    task: dict[str, Any] = {"data": data}
    if article.claims:
        if claims_as == "annotations":
            task["annotations"] = [{"result": article_results(article), "was_cancelled": False, "ground_truth": False}]
        else:
            task.setdefault("predictions", []).append(_prediction(article, model_version or "input"))
    if prediction is not None:
        if prediction.text != article.text:
            raise ValueError(f"prediction for {article.id!r} is for a different text")
        task.setdefault("predictions", []).append(_prediction(prediction, model_version or "model"))
    return task


def _prediction(article: Article, model_version: str) -> dict[str, Any]:
    scores = [max(c.stance_probs.values()) for c in article.claims if c.stance_probs]
    out: dict[str, Any] = {"model_version": model_version, "result": article_results(article, with_scores=True)}
    if scores:
        out["score"] = sum(scores) / len(scores)
    return out


def articles_to_tasks(articles: Iterable[Article], predictions: Mapping[str, Article] | None = None,
                      model_version: str | None = None, claims_as: str = "annotations") -> list[dict[str, Any]]:
    """Tasks for many articles; `predictions` maps article ids to a model's output."""
    predictions = predictions or {}
    return [article_to_task(a, predictions.get(a.id), model_version, claims_as) for a in articles]


def export_labelstudio(input_path: str | os.PathLike, output_path: str | os.PathLike, model: str | None = None,
                       device: str = "auto", claims_as: str = "annotations", batch_size: int | None = None) -> int:
    """Write a JSON Lines corpus as a Label Studio task file; with `model`, add its predictions. Returns the count."""
    articles = read_jsonl(input_path)
    predictions = None
    if model is not None:
        from stance.inference import load  # torch only when a model is asked for

        analyzer = load(model, device=device, batch_size=batch_size)
        predicted = analyzer.analyze_many([a.text for a in articles], ids=[a.id for a in articles])
        predictions = {p.id: p for p in predicted}
    tasks = articles_to_tasks(articles, predictions, model_version=Path(model).name if model else None, claims_as=claims_as)
    path = Path(output_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(tasks, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return len(tasks)


# ---------------------------------------------------------------------------
# import


def _utf16_to_index(text: str, offset: int) -> int | None:
    """A UTF-16 code-unit offset (how older Label Studio versions count) as a Python index."""
    units = 0
    for i, ch in enumerate(text):
        if units == offset:
            return i
        units += 2 if ord(ch) > 0xFFFF else 1
    return len(text) if units == offset else None


def _offsets(value: Mapping[str, Any], text: str, where: str) -> tuple[int, int]:
    start, end = value.get("start"), value.get("end")
    for name, v in (("start", start), ("end", end)):
        if not isinstance(v, int) or isinstance(v, bool):
            raise RecordError(where, f"value.{name}", f"must be an integer character offset, got {v!r}")
    shown = value.get("text")
    if not isinstance(shown, str) or text[start:end] == shown:
        return start, end
    s16, e16 = _utf16_to_index(text, start), _utf16_to_index(text, end)
    if s16 is not None and e16 is not None and text[s16:e16] == shown:
        return s16, e16
    raise RecordError(where, "value.text", f"{shown!r} does not match data.text at [{start}, {end}): {text[start:end]!r}; "
                      "was the task text changed after annotation?")


def _pick(task: Mapping[str, Any], source: str, where: str) -> list[Any]:
    entries = task.get(source) or []
    if not isinstance(entries, list):
        raise RecordError(where, source, "must be a list")
    if source == "annotations":
        entries = [e for e in entries if isinstance(e, Mapping) and not e.get("was_cancelled")]
    if not entries:
        raise RecordError(where, source, f"no {source[:-1]} to import; annotate the task, or skip it in Label Studio")
    result = entries[-1].get("result") if isinstance(entries[-1], Mapping) else None
    if not isinstance(result, list):
        raise RecordError(where, f"{source}[-1].result", "must be a list of result items")
    return result


def task_to_article(task: Any, where: str = "task", source: str = "annotations") -> Article:
    """The spec article in one Label Studio task (its last non-cancelled annotation, or last prediction).

    Raises `RecordError` naming the task and the region for anything that breaks the spec.
    """
    if not isinstance(task, Mapping) or not isinstance(task.get("data"), Mapping):
        raise RecordError(where, "data", "a task must be an object with a 'data' object")
    data = task["data"]
    text, aid = data.get("text"), data.get("id")
    if not isinstance(text, str):
        raise RecordError(where, "data.text", f"must be a string, got {type(text).__name__}")
    if not isinstance(aid, str) or not aid:
        raise RecordError(where, "data.id", f"must be the article id (a non-empty string), got {aid!r}")
    where = f"{where} (id {aid!r})"

    regions: dict[str, dict[str, Mapping[str, Any]]] = {}
    relations = []
    for n, item in enumerate(_pick(task, source, where)):
        if not isinstance(item, Mapping):
            raise RecordError(where, f"result[{n}]", "must be an object")
        if item.get("type") == "relation":
            relations.append(item)
            continue
        rid, from_name, value = item.get("id"), item.get("from_name"), item.get("value")
        if not isinstance(rid, str) or not isinstance(value, Mapping):
            raise RecordError(where, f"result[{n}]", "a region result needs a string 'id' and a 'value' object")
        regions.setdefault(rid, {})[str(from_name)] = item

    claims: dict[str, tuple[dict[str, Mapping[str, Any]], tuple[int, int]]] = {}
    speakers: dict[str, tuple[int, int]] = {}
    for rid, items in regions.items():
        rwhere = f"{where} region {rid!r}"
        label_items = [it for it in items.values() if it.get("type") == "labels"]
        labels = [lab for it in label_items for lab in it["value"].get("labels", [])]
        if labels not in ([CLAIM_LABEL], [SPEAKER_LABEL]):
            raise RecordError(rwhere, "value.labels", f"expected one label, {CLAIM_LABEL!r} or {SPEAKER_LABEL!r}, got {labels}")
        span = _offsets(label_items[0]["value"], text, rwhere)
        if labels == [CLAIM_LABEL]:
            claims[rid] = (items, span)
        else:
            speakers[rid] = span

    speaker_of: dict[str, str] = {}
    for rel in relations:
        ends = (rel.get("from_id"), rel.get("to_id"))
        claim_end = [e for e in ends if e in claims]
        speaker_end = [e for e in ends if e in speakers]
        if len(claim_end) != 1 or len(speaker_end) != 1:
            raise RecordError(f"{where} relation {ends[0]!r} -> {ends[1]!r}", "relation",
                              "a relation must link one Speaker region and one Claim region")
        if claim_end[0] in speaker_of and speaker_of[claim_end[0]] != speaker_end[0]:
            raise RecordError(f"{where} region {claim_end[0]!r}", "relation",
                              f"claim has two speakers ({speaker_of[claim_end[0]]!r} and {speaker_end[0]!r}); keep one relation")
        speaker_of[claim_end[0]] = speaker_end[0]
    unused = sorted(set(speakers) - set(speaker_of.values()))
    if unused:
        raise RecordError(f"{where} region {unused[0]!r}", "relation", "speaker region is linked to no claim; draw a relation to its claim or delete it")

    ordered = sorted(claims.items(), key=lambda kv: kv[1][1])
    raw_claims = []
    for k, (rid, (items, (start, end))) in enumerate(ordered):
        rwhere = f"{where} region {rid!r}"
        if k and start < ordered[k - 1][1][1][1]:
            raise RecordError(rwhere, "value.start", f"claim overlaps region {ordered[k - 1][0]!r}; claims must not overlap")
        stance = _choice(items, STANCE, rwhere)
        role = _choice(items, ROLE, rwhere)
        speaker: dict[str, Any] = {"text": None, "start": None, "end": None, "resolved": None, "role": role}
        if rid in speaker_of:
            s, e = speakers[speaker_of[rid]]
            speaker.update(text=text[s:e], start=s, end=e, resolved=_resolved(items, rwhere) or text[s:e])
        elif _resolved(items, rwhere):
            raise RecordError(rwhere, RESOLVED, "resolved name given but no Speaker region is linked to this claim")
        raw = {"start": start, "end": end, "stance": stance, "speaker": speaker}
        try:
            article_from_dict({"id": aid, "text": text, "claims": [raw]})
        except RecordError as exc:  # re-raised so that it names the region, not "claim 0"
            raise RecordError(rwhere, exc.field, exc.problem) from None
        raw_claims.append(raw)

    record = {"id": aid, "lang": data.get("lang", "nl"), "title": data.get("title"), "text": text}
    meta = data.get("meta") or {}
    if not isinstance(meta, Mapping):
        raise RecordError(where, "data.meta", "must be an object")
    record.update({k: v for k, v in meta.items() if k not in _DATA_CORE and k != "claims"})
    # Other data fields (added in Label Studio) are kept too.
    record.update({k: v for k, v in data.items() if k not in _DATA_CORE and k != "claims"})
    record["claims"] = raw_claims
    return article_from_dict(record, where)


def _choice(items: Mapping[str, Mapping[str, Any]], name: str, where: str) -> str:
    item = items.get(name)
    choices = item["value"].get("choices") if item is not None else None
    if not choices:
        raise RecordError(where, name, f"claim region has no {name}; select one")
    if not isinstance(choices, list) or len(choices) != 1:
        raise RecordError(where, name, f"exactly one {name} per claim, got {choices!r}")
    return choices[0]


def _resolved(items: Mapping[str, Mapping[str, Any]], where: str) -> str | None:
    item = items.get(RESOLVED)
    if item is None:
        return None
    entries = item["value"].get("text")
    entries = [entries] if isinstance(entries, str) else entries or []
    names = [e.strip() for e in entries if isinstance(e, str) and e.strip()]
    if len(names) > 1:
        raise RecordError(where, RESOLVED, f"one resolved name per claim, got {names!r}")
    return names[0] if names else None


def tasks_to_articles(tasks: Sequence[Any], source: str = "annotations", name: str = "export") -> list[Article]:
    """Articles of every task; raises `CorpusError` listing each bad task (with its region)."""
    if not isinstance(tasks, list):
        raise CorpusError(name, [RecordError(name, "(file)", "a Label Studio export is a JSON list of tasks")])
    articles, errors = [], []
    for i, task in enumerate(tasks):
        tid = task.get("id") if isinstance(task, Mapping) else None
        where = f"{name} task {i}" + (f" (Label Studio id {tid})" if tid is not None else "")
        try:
            articles.append(task_to_article(task, where, source))
        except RecordError as exc:
            errors.append(exc)
    if errors:
        raise CorpusError(name, errors)
    return articles


def import_labelstudio(export_path: str | os.PathLike, output_path: str | os.PathLike, source: str = "annotations") -> int:
    """Convert a Label Studio JSON export to a spec JSON Lines file; returns the number of articles."""
    try:
        tasks = json.loads(Path(export_path).read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise CorpusError(export_path, [RecordError(str(export_path), "(file)", f"invalid JSON: {exc.msg} at line {exc.lineno}")]) from None
    return write_jsonl(tasks_to_articles(tasks, source, str(export_path)), output_path)
