import re

import pandas as pd
import pytest

from vocnlp.config import load_config
from vocnlp.pipeline import run_pipeline
from vocnlp.report.render import _driver_name
from vocnlp.report.words import words_for


def _cfg(tmp_path, **over):
    base = {"embed.cache_dir": str(tmp_path / "cache"), "history.path": str(tmp_path / "hist"),
            "classify.cx_dimension.method": "prototype", "classify.journey_stage.method": "prototype",
            "sentiment.method": "lexicon"}
    return load_config(None, {**base, **over})


def _html(result):
    return (result.output_dir / "report.html").read_text(encoding="utf-8")


def _headings(html):
    return re.findall(r"<h[123]>(.*?)</h[123]>", html)


@pytest.mark.parametrize("period,kind_ja,kind_en", [("2026-W46", "週次", "weekly"), ("2026-11", "月次", "monthly"),
                                                     ("2026-Q4", "四半期", "quarterly")])
def test_title_names_the_period_kind(tmp_path, small_csv, use_fake_embedder, period, kind_ja, kind_en):
    ja = run_pipeline(small_csv, tmp_path / "ja", _cfg(tmp_path), period=period)
    assert f"<h1>お客様の声 {kind_ja}レポート</h1>" in _html(ja)
    en = run_pipeline(small_csv, tmp_path / "en", _cfg(tmp_path, **{"report.language": "en", "history.enabled": False}),
                      period=period)
    html = _html(en)
    assert f"<h1>Customer feedback: {kind_en} report</h1>" in html and 'lang="en"' in html


def test_english_report_has_english_headings_and_the_comments_as_written(tmp_path, small_csv, use_fake_embedder):
    en = _html(run_pipeline(small_csv, tmp_path / "en", _cfg(tmp_path, **{"report.language": "en"})))
    jp = re.compile(r"[\u3040-\u30ff]")
    fixed = [h for h in _headings(en) if not re.match(r"\d+\. ", h)]  # issue headings carry topic labels
    assert fixed and not any(jp.search(h) for h in fixed), fixed
    assert "Overview" in en and "Issues to act on first" in en
    assert jp.search(en)  # the comments and topic labels stay Japanese
    ja = _html(run_pipeline(small_csv, tmp_path / "ja", _cfg(tmp_path)))
    assert "概要" in ja and "Overview" not in ja and "mean" not in "".join(_headings(ja))


def test_driver_name_is_in_the_report_language():
    drivers = {"kind": "mean", "column": "評価"}
    assert _driver_name(drivers, words_for("ja", "2024-Q3")) == "評価平均への影響"
    assert _driver_name(drivers, words_for("en", None)) == "impact on mean 評価"
    assert _driver_name({"kind": "NPS", "column": "nps"}, words_for("ja", None)) == "NPSへの影響"


def test_a_set_title_is_kept(tmp_path, small_csv, use_fake_embedder):
    r = run_pipeline(small_csv, tmp_path / "o", _cfg(tmp_path, **{"report.title": "店舗の声", "history.enabled": False}))
    assert "<h1>店舗の声</h1>" in _html(r)


@pytest.mark.parametrize("row", [
    {"lineage": "grown", "share": 0.12, "prev_share": 0.05, "share_change": 0.07, "q_share": 0.004,
     "prev_negative_share": 0.3, "negative_share": 0.6, "related_topic": float("nan"), "baseline_measured": False},
    {"lineage": "new", "share": 0.08, "prev_share": 0.01, "share_change": 0.07, "q_share": 0.02,
     "prev_negative_share": None, "negative_share": 0.7, "related_topic": float("nan"), "baseline_measured": True},
    {"lineage": "split", "share": 0.08, "prev_share": 0.01, "share_change": 0.07, "q_share": 0.02,
     "prev_negative_share": None, "negative_share": 0.7, "related_topic": 3.0, "baseline_measured": True},
    {"lineage": "grown", "share": 0.12, "prev_share": 0.05, "share_change": 0.07, "q_share": 0.004,
     "prev_negative_share": pd.NA, "negative_share": 0.6, "related_topic": pd.NA, "baseline_measured": pd.NA},
    {"lineage": "merged", "related_topic": 2.0}, {"lineage": "gone"}])
def test_trend_text_matches_the_weekly_note_and_follows_language_and_period(row):
    from vocnlp.report.words import trend_text
    from vocnlp.stages.trends import trend_note

    assert trend_text(row, words_for("ja", "2026-W46")) == trend_note(row)  # the same words as issues.csv
    monthly = trend_text(row, words_for("ja", "2026-11"))
    assert "前週" not in monthly and "今週" not in monthly
    english = trend_text(row, words_for("en", "2026-11"))
    assert english and not re.search(r"[\u3040-\u30ff]", english)


def test_drill_down_quotes_the_secondary_mentions_behind_a_topics_count():
    """A comment counted in a second topic (topic_ids) shows in that topic's drill-down by the segment that
    mentions it, marked as a mention with its main subject; the primary members are listed as before."""
    from vocnlp import schema as S
    from vocnlp.report.render import _drill

    ok = pd.DataFrame({S.ID: ["a", "b", "c"], S.TEXT: ["アプリが開かない。", "配送が遅い。アプリも落ちる。", "配送は早い。"],
                       S.TOPIC_ID: [0, 1, 1], S.TOPIC_IDS: ["0", "1|0", "1"], S.JOURNEY_STAGE: ["使用", "購入", "購入"],
                       S.SENTIMENT_LABEL: ["negative", "negative", "positive"],
                       S.SENTIMENT_SCORE: [-0.9, -0.5, 0.8]})
    segments = pd.DataFrame({S.ID: ["a", "b", "b", "c"], S.SEGMENT_NO: [1, 1, 2, 1],
                             S.TEXT: ["アプリが開かない。", "配送が遅い。", "アプリも落ちる。", "配送は早い。"],
                             S.TOPIC_ID: [0, 1, 0, 1], S.SENTIMENT_SCORE: [-0.9, -0.6, -0.7, 0.8]})
    topics = pd.DataFrame({S.TOPIC_ID: [0, 1], "lineage": ["", ""]})
    rows = [{"topic_id": 0, "topic_label": "アプリの不具合", "size": 2}, {"topic_id": 1, "topic_label": "配送の遅れ", "size": 2}]
    words = words_for("ja", None)
    drill = {d["topic_id"]: d for d in _drill(rows, ok, topics, words, {}, segments)}
    app, ship = drill[0], drill[1]
    assert [e["id"] for e in app["examples"]] == ["a"] and app["n_primary"] == 1 and app["n_mentions"] == 1
    assert app["mentions"] == [{"id": "b", "text": "アプリも落ちる。", "score": -0.7,
                                "of": "コメントの主な話題: 配送の遅れ"}]  # the segment, not the whole comment
    assert app["stages"] == {"使用": 1, "購入": 1}  # over every comment behind the count
    assert ship["n_mentions"] == 0 and ship["mentions"] == []
    # without segment topics (an older segments table) the whole comment is quoted
    no_seg = {d["topic_id"]: d for d in _drill(rows, ok, topics, words, {}, segments.drop(columns=[S.TOPIC_ID]))}
    assert no_seg[0]["mentions"][0]["text"] == "配送が遅い。アプリも落ちる。"


def test_a_row_standing_for_several_comments_counts_them_and_is_quoted_once():
    """The report's items are one row per distinct text with WEIGHT, the comments it stands for: counts, stage
    rows and shares are those of the comments (as if each copy were a row), and a text is quoted once."""
    from vocnlp import schema as S
    from vocnlp.report.render import WEIGHT, _drill, _stage_rows

    ok = pd.DataFrame({S.ID: ["a", "b", "c", "d"],
                       S.TEXT: ["アプリが開かない。", "配送が遅い。アプリも落ちる。", "配送は早い。", "ログインできない。"],
                       S.TOPIC_ID: [0, 1, 1, 0], S.TOPIC_IDS: ["0", "1|0", "1", "0"],
                       S.JOURNEY_STAGE: ["使用", "購入", "購入", "使用"],
                       S.SENTIMENT_LABEL: ["negative", "negative", "positive", "negative"],
                       S.SENTIMENT_SCORE: [-0.9, -0.5, 0.8, -0.4]})
    n = [5, 2, 1, 1]
    copies = ok.loc[ok.index.repeat(n)].reset_index(drop=True)  # every comment as its own row, ids made unique
    copies[S.ID] = [f"{i}-{k}" for i, k in zip(copies[S.ID], copies.groupby(S.ID).cumcount())]
    weighted = ok.assign(**{WEIGHT: n})
    topics = pd.DataFrame({S.TOPIC_ID: [0, 1], "lineage": ["", ""]})
    rows = [{"topic_id": 0, "topic_label": "アプリの不具合", "size": 8}, {"topic_id": 1, "topic_label": "配送", "size": 3}]
    words = words_for("ja", None)
    for a, b in zip(_stage_rows(weighted, ["使用", "購入"]), _stage_rows(copies, ["使用", "購入"]), strict=True):
        assert a.pop("mean") == pytest.approx(b.pop("mean")) and a == b
    w = {d["topic_id"]: d for d in _drill(rows, weighted, topics, words, {}, None)}
    c = {d["topic_id"]: d for d in _drill(rows, copies, topics, words, {}, None)}
    for t in (0, 1):
        assert (w[t]["n_primary"], w[t]["n_mentions"], w[t]["stages"]) == \
            (c[t]["n_primary"], c[t]["n_mentions"], c[t]["stages"])
    assert w[0]["n_primary"] == 6 and w[0]["n_mentions"] == 2 and w[0]["stages"] == {"使用": 6, "購入": 2}
    quoted = [e["text"] for e in w[0]["examples"]]
    assert quoted == ["アプリが開かない。", "ログインできない。"]  # each text once
    assert [e["text"] for e in c[0]["examples"]].count("アプリが開かない。") > 1  # row by row, its copies crowd it


def test_a_mixed_themes_badge_lists_its_sub_topics():
    """A topic in a mixed theme (named 「…など」: no word most of its comments share) carries a badge with the
    theme's biggest sub-topics, not a single word that reads as the topic's subject; other themes keep their label."""
    from vocnlp.report.render import _mixed_badges

    rows = [{"topic_id": 0, "topic_label": "店員さん・毛布", "parent_id": 2, "theme_label": "店員さんなど", "size": 48},
            {"topic_id": 3, "topic_label": "駐車場・家具", "parent_id": 2, "theme_label": "店員さんなど", "size": 31},
            {"topic_id": 4, "topic_label": "配送・依頼", "parent_id": 1, "theme_label": "配送など", "size": 28},
            {"topic_id": 5, "topic_label": "電気ケトル・詫び", "parent_id": 1, "theme_label": "配送など", "size": 21},
            {"topic_id": 7, "topic_label": "注文・みどりオンライン", "parent_id": 1, "theme_label": "配送など", "size": 17},
            {"topic_id": 8, "topic_label": "クーポン・在庫確認", "parent_id": 3, "theme_label": "アプリ", "size": 13}]
    badges = _mixed_badges(rows, words_for("ja", None))
    assert badges == {"店員さんなど": "店員さんなど（店員さん・毛布、駐車場・家具）",
                      "配送など": "配送など（配送・依頼、電気ケトル・詫び ほか 1 トピック）"}
    assert _mixed_badges(rows, words_for("en", None))["配送など"] == "配送など (配送・依頼, 電気ケトル・詫び and 1 more)"


def test_counts_are_printed_with_thousands_separators():
    from vocnlp.report.render import _thousands

    assert [_thousands(v) for v in (330, 1000000, 994622.0, None)] == ["330", "1,000,000", "994,622", "None"]
