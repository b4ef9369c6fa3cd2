"""A Ray Data predictor: `ds.map_batches(StancePredictor, ...)` analyses a dataset on a cluster.

    import ray
    from stance.ray_predictor import StancePredictor

    ds = ray.data.read_parquet("s3://bucket/news/")
    out = ds.map_batches(StancePredictor, fn_constructor_kwargs={"model": "/models/stance", "device": "cuda"},
                         batch_size=256, batch_format="pyarrow", concurrency=4, num_gpus=1)
    out.write_parquet("s3://bucket/stance/")

Ray owns the streaming, retries and parallelism here; each actor loads the model once.
Rows become spec records with probabilities (the schema of `stance predict --format
parquet`, plus an `error` column): a bad row is kept, with zero claims and its reason.
"""

from __future__ import annotations

from typing import Any

from stance.batch_io import JobConfig, analyze_records, arrow_row, parquet_schema, parse_record

__all__ = ["StancePredictor"]


class StancePredictor:
    """Callable class for Ray Data `map_batches`: one model per actor, a batch of rows per call."""

    def __init__(self, model: str | None = None, device: str = "auto", precision: str = "fp32", batch_size: int | None = None,
                 id_column: str = "id", text_column: str = "text", max_claims: int = 1000, analyzer=None):
        if analyzer is None:
            from stance.inference import load

            analyzer = load(model, device=device, precision=precision, batch_size=batch_size)
        self.analyzer = analyzer
        self.cfg = JobConfig(inputs=(), output_dir="", model=model, id_column=id_column, text_column=text_column,
                             max_claims=max_claims)

    def __call__(self, batch: Any):
        """Analyse one batch (pandas DataFrame, pyarrow Table or dict of arrays); the same kind back (dict: Table)."""
        import pyarrow as pa

        kind = "pandas" if hasattr(batch, "to_dict") and hasattr(batch, "iloc") else "arrow"
        if kind == "pandas":
            rows = batch.to_dict(orient="records")
        elif isinstance(batch, pa.Table):
            rows = batch.to_pylist()
        else:
            rows = pa.table({k: list(v) for k, v in batch.items()}).to_pylist()
        # NaN / None from pandas for a missing text become an error row like any non-string.
        records = [parse_record({"file": "batch", "row": i + 1}, ({k: _plain(v) for k, v in row.items()}, None), self.cfg)
                   for i, row in enumerate(rows)]
        out = []
        for record, article, error in analyze_records(self.analyzer, records, self.cfg.max_claims):
            if article is not None:
                row = arrow_row(article)
                row["input"], row["error"] = None, None
            else:
                text = rows[len(out)].get(self.cfg.text_column)
                row = {"id": record.id, "text": text if isinstance(text, str) else None, "claims": [], "error": error}
            out.append(row)
        schema = parquet_schema().append(pa.field("error", pa.string()))
        table = pa.Table.from_pylist(out, schema=schema)
        return table.to_pandas() if kind == "pandas" else table


def _plain(value):
    # pandas gives float('nan') for a missing cell and numpy scalars for numbers.
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()
    return None if isinstance(value, float) and value != value else value
