"""Build the classifiers the config asks for. The one place that maps config -> model objects."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..config import RunConfig, TaskConfig
from ..errors import ConfigError
from ..labels import LabelSet, load_label_set
from .base import TextClassifier
from .prototype import PrototypeClassifier


def build_task_model(task: str, tcfg: TaskConfig, cfg: RunConfig, embed: Callable[[list[str]], np.ndarray],
                     embedder_id: str | None = None) -> tuple[TextClassifier, LabelSet, dict]:
    """Returns (model, label_set, description for the manifest)."""
    label_set: LabelSet = load_label_set(cfg.resolve(tcfg.labels))
    if tcfg.method == "prototype":
        model = PrototypeClassifier(threshold=tcfg.threshold).fit(label_set, embed)
        return model, label_set, {"method": "prototype", "labels": label_set.names}
    if tcfg.method == "trained":
        from .trained import load_model

        if not tcfg.model:
            raise ConfigError(f"classify.{task}.method is 'trained' but classify.{task}.model is empty.",
                              fix="set it to a model folder (vocnlp train writes one) or use method: prototype.")
        model = load_model(cfg.resolve(tcfg.model), expect_task=task, expect_labels=label_set.names,
                           expect_embedder=embedder_id)
        return model, label_set, {"method": "trained", "model": tcfg.model, "labels": label_set.names,
                                  "version": model.metadata_.get("version"), "metrics": model.metadata_.get("metrics", {}),
                                  "training_data_sha256": model.metadata_.get("training_data", {}).get("sha256")}
    raise ConfigError(f"unknown method '{tcfg.method}' for classify.{task}.", fix="use prototype or trained.")  # pragma: no cover


def build_sentiment_model(cfg: RunConfig, embedder_id: str | None = None):
    """The trained item-level sentiment model, or None for method: lexicon."""
    if cfg.sentiment.method != "trained":
        return None, {"method": "lexicon", "lexicon": cfg.sentiment.lexicon}
    from .trained import load_model

    if not cfg.sentiment.model:
        raise ConfigError("sentiment.method is 'trained' but sentiment.model is empty.",
                          fix="set it to a model folder (vocnlp train sentiment writes one) or use method: lexicon.")
    model = load_model(cfg.resolve(cfg.sentiment.model), expect_task="sentiment",
                       expect_labels=["negative", "neutral", "positive"], expect_embedder=embedder_id,
                       lexicon_path=str(cfg.resolve(cfg.sentiment.lexicon)))
    return model, {"method": "trained", "model": cfg.sentiment.model, "version": model.metadata_.get("version"),
                   "metrics": model.metadata_.get("metrics", {}), "lexicon": cfg.sentiment.lexicon}
