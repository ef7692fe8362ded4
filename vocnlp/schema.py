"""Column names shared by the stages and the output contract (see README, "Output contract").

Downstream notebooks read these names: adding a column is fine, renaming one is a breaking change.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from .errors import SchemaError

# -- output contract (items.csv / items.parquet) --------------------------------------------
ID = "id"
TEXT = "text"
STATUS = "status"
TOPIC_ID = "topic_id"
TOPIC_LABEL = "topic_label"
TOPIC_IDS = "topic_ids"  # every topic the comment mentions (segment-level topics), primary first, pipe-joined
CX_DIMENSIONS = "cx_dimensions"
CX_PREFIX = "cx_"
JOURNEY_STAGE = "journey_stage"
JOURNEY_CONFIDENCE = "journey_confidence"
SENTIMENT_LABEL = "sentiment_label"
SENTIMENT_SCORE = "sentiment_score"
SENTIMENT_EVIDENCE = "sentiment_evidence"
DUPLICATE = "duplicate"  # True when an earlier row of the same run has exactly this text (still analysed)
CODES = "codes"  # analyst codes matched by the rules file (pipe-joined, may be empty)

# -- internal columns (prefixed so they never clash with a passed-through input column) -----
ROW = "_row"  # 0-based input row number
TEXT_RAW = "_text_raw"  # the text exactly as read
TEXT_NORM = "_text_norm"  # normalised text the models see
PII_COUNT = "_pii_count"
SEGMENTS = "_segments"  # list[str] per item
TOKENS = "_tokens"  # list[str] content-word base forms per item
IS_DUPLICATE = "_duplicate"  # bool per item, written to items as DUPLICATE
VECTOR_TOKENS = "_vector_tokens"  # content words for the topic vectors (names as written only label topics)
DOCS = "_docs"  # spaCy Doc per analysed item (None for the others), see vocnlp.nlp
PHRASES = "_phrases"  # str: the item's key-phrase candidates as JSON (vocnlp.phrases), which name its topic
PREDICATES = "_predicates"  # list[str]: base forms of the item's verbs and adjectives (topic labels prefer nouns)

# -- statuses ---------------------------------------------------------------------------------
STATUS_OK = "ok"
STATUS_EMPTY = "empty"
STATUS_NO_CONTENT = "no_content"  # only symbols / punctuation
STATUS_TOO_SHORT = "too_short"
STATUS_NON_ANSWER = "non_answer"  # 「なし」「特になし」

SENTIMENT_LABELS = ("negative", "neutral", "positive")

# -- segments.csv -----------------------------------------------------------------------------
SEGMENT_NO = "segment"


def cx_column(label: str) -> str:
    return f"{CX_PREFIX}{label}"


def require(df: pd.DataFrame, columns: Iterable[str], stage: str, made_by: dict[str, str] | None = None) -> None:
    """Fail early, naming the missing column and the stage that makes it."""
    missing = [c for c in columns if c not in df.columns]
    if missing:
        made_by = made_by or {}
        hints = ", ".join(f"{c} (made by {made_by.get(c, 'an earlier stage')})" for c in missing)
        raise SchemaError(
            f"stage '{stage}' needs column(s) {hints}.",
            fix="run the stages in pipeline order (vocnlp.pipeline.run_pipeline).",
        )
