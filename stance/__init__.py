"""stance: who claims what about the security risk of technology vendors in Dutch news.

    >>> import stance
    >>> analyser = stance.load()            # the bundled model, no network
    >>> article = analyser.analyze("Minister X waarschuwt voor Huawei.")

Heavy modules (torch, transformers) load on first use, not at import.
"""

from stance.schema import ROLES, STANCES, Article, Claim, Speaker, read_jsonl, write_jsonl

__version__ = "0.1.0"

__all__ = ["ROLES", "STANCES", "Article", "Claim", "Speaker", "load", "read_jsonl", "write_jsonl", "__version__"]


def load(path_or_id: str | None = None, device: str = "auto", precision: str = "fp32", batch_size: int | None = None):
    """Load an analyser: the bundled model by default, or a model directory / hub id.

    The same as `stance.inference.load`, imported on first call so that `import stance`
    stays light (no torch).
    """
    from stance.inference import load as _load

    return _load(path_or_id, device=device, precision=precision, batch_size=batch_size)
