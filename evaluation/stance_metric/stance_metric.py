"""An HF `evaluate` metric that scores `stance` predictions exactly as `stance.metrics.score`.

Load it from this folder (hub metrics need a network):

    import evaluate
    metric = evaluate.load("evaluation/stance_metric")
    metric.compute(predictions=[json_record, ...], references=[json_record, ...])

Each input is one article as a JSON string in the spec's record format.
"""

import json

import datasets
import evaluate

from stance.metrics import score
from stance.schema import article_from_dict

_DESCRIPTION = """Claim segmentation P/R/F1, stance macro-F1, role macro-F1, speaker accuracy and
speaker span F1 (strict and partial), and stance ECE, per spec/labels.md of the stance project.
Articles are paired by id."""

_KWARGS_DESCRIPTION = """
Args:
    predictions: list of JSON strings, one predicted article record each.
    references: list of JSON strings, one gold article record each (same ids).
    n_resamples: bootstrap resamples of articles for 95% intervals (default 0: none).
    seed: bootstrap seed (default 0).
Returns:
    dict of floats: each figure of stance.metrics.METRICS (None where undefined) and,
    with n_resamples > 0, `<figure>_low` and `<figure>_high`.
"""

_CITATION = ""


def _articles(records, where):
    out = []
    for i, rec in enumerate(records):
        obj = json.loads(rec) if isinstance(rec, str) else rec
        out.append(article_from_dict(obj, f"{where}[{i}]"))
    return out


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class StanceMetric(evaluate.Metric):
    """Scores of the `stance` project for claims, stances, roles and speakers."""

    def _info(self):
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation=_CITATION,
            inputs_description=_KWARGS_DESCRIPTION,
            features=datasets.Features({"predictions": datasets.Value("string"), "references": datasets.Value("string")}),
        )

    def _compute(self, predictions, references, n_resamples=0, seed=0):
        scores = score(_articles(references, "references"), _articles(predictions, "predictions"), n_resamples=n_resamples, seed=seed)
        flat = scores.as_dict()
        out = dict(flat["metrics"])
        for name, (low, high) in flat["intervals"].items():
            out[f"{name}_low"] = low
            out[f"{name}_high"] = high
        return out
