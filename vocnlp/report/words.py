"""Every heading and note of the report in one language: Japanese (default) or English (``report.language: en``).

The comments, topic labels and label names stay as written; only the report's own words change. The
period's kind (週次 / 月次 / 四半期) comes into the title and the "since last period" phrases.
"""

from __future__ import annotations

import pandas as pd

from .. import schema as S
from ..periods import period_kind

PERIOD_WORDS = {
    "ja": {"week": ("週次", "今週", "前週"), "month": ("月次", "今月", "前月"), "quarter": ("四半期", "今四半期", "前四半期"),
           None: ("期間", "今期", "前期")},
    "en": {"week": ("weekly", "this week", "last week"), "month": ("monthly", "this month", "last month"),
           "quarter": ("quarterly", "this quarter", "last quarter"), None: ("period", "this period", "the last period")},
}

JA = {
    "lang": "ja", "title": "お客様の声 {kind}レポート", "period": "期間", "input": "入力", "created": "作成",
    "compared_with": "比較対象", "changes": "{this}の変化", "changes_vs": "（{prev} との比較）",
    "first_period": "この期間が履歴の最初の期間です。次の期間から{prev}比の変化と新たな課題を表示します。",
    "emerging_head": "新たに増えている課題（ネガティブで、{prev}から統計的に有意に増加）", "watch": "要注目",
    "items_neg": "{n} 件、ネガティブ {neg}%。", "no_emerging": "{prev}から有意に増えたネガティブな課題はありません。",
    "movers": "大きく動いたトピック", "overview": "概要", "read": "読み込んだコメント", "analysed": "分析したコメント",
    "topics": "トピック", "negative": "ネガティブ", "neutral": "中立", "positive": "ポジティブ",
    "skipped": "分析対象外 {n} 件", "sep": "、", "open": "（", "close": "）", "stop": "。",
    "priority_note": "優先度 = そのトピックが{this}のネガティブな声の重み（件数 × 強さ）に占める割合。",
    "warnings": "注意", "issues_head": "優先して対応すべき課題（上位 {n} 件）",
    "no_issues": "ネガティブな声がまとまったトピックはありませんでした。", "n_items": "{n} 件",
    "mean_score": "平均スコア", "priority": "優先度", "impact_on": "{what}への影響", "mean_of": "{column}平均",
    "keywords": "キーワード", "why": "判定の根拠", "topic_list": "トピック一覧", "breakdown": "感情の内訳",
    "themes": "テーマ", "theme": "テーマ", "theme_list": "テーマとトピック",
    "theme_note": "似たトピックをまとめたテーマ（クリックでサブトピックを表示）。件数・構成比はサブトピックの合計。",
    "n_subtopics": "{n} トピック", "no_theme": "どのテーマにも入らないコメント", "more_topics": " ほか {n} トピック",
    "count": "件数", "size": "規模", "mean": "平均", "trends": "推移", "share": "構成比", "neg_share": "ネガティブ率",
    "stage": "ジャーニーステージ", "mean_sentiment": "平均感情スコア", "map": "カスタマージャーニー × 経験価値",
    "map_note": "各ステージで、どの経験価値についての声が多いか（件数）。色が濃いほど多い。", "total": "計",
    "by_stage": "ジャーニーステージ別の感情", "stage_short": "ステージ", "drill": "トピック詳細", "main_stages": "主なステージ",
    "drill_counts": "主な話題として {primary} 件・他の話題のコメントの中での言及 {mentions} 件",
    "mentions_head": "他の話題のコメントの中での言及（そのトピックに当たる部分を引用）", "mention": "言及",
    "mention_of": "コメントの主な話題: {label}",
    "offline": "このレポートはオフラインで開けます（外部の読み込みなし）。",
    "masked": "個人情報（メール・電話番号・郵便番号・カード番号・氏名）は伏せ字にしています。",
    "not_masked": "個人情報（メール・電話番号・郵便番号・カード番号・氏名）は伏せ字にしていません。",
    "status": {S.STATUS_EMPTY: "空欄", S.STATUS_NO_CONTENT: "記号のみ", S.STATUS_TOO_SHORT: "短すぎ",
               S.STATUS_NON_ANSWER: "「特になし」等"},
    "trend": {"first": "初回", "gone": "{this}は該当なし", "merged": "トピック {id} に統合", "split": "（トピック {id} から分岐）",
              "new": "新しいトピック{origin}・構成比 {share}%（{prev}のコメントに同じ基準を当てると {prev_share}%、q={q}）",
              "share": "構成比 {a}% → {b}%（{pts}pt, q={q}）", "neg": "ネガティブ率 {a}% → {b}%", "sep": "・"},
    "lineage": {"new": "新規", "continued": "継続", "grown": "増加", "shrunk": "減少", "gone": "消滅", "merged": "統合",
                "split": "分岐"},
}

EN = {
    "lang": "en", "title": "Customer feedback: {kind} report", "period": "Period", "input": "Input", "created": "Created",
    "compared_with": "compared with", "changes": "What changed {this}", "changes_vs": " (vs {prev})",
    "first_period": "This is the first period in the history. From the next period on, the changes since {prev} "
                    "and the emerging issues are shown here.",
    "emerging_head": "Emerging issues (negative, and significantly more common than {prev})", "watch": "watch",
    "items_neg": "{n} comments, {neg}% negative.", "no_emerging": "No negative issue grew significantly since {prev}.",
    "movers": "Topics that moved most", "overview": "Overview", "read": "comments read", "analysed": "comments analysed",
    "topics": "topics", "negative": "negative", "neutral": "neutral", "positive": "positive",
    "skipped": "{n} not analysed", "sep": ", ", "open": " (", "close": ")", "stop": ".",
    "priority_note": "Priority = the topic's share of {this}'s negative weight (number of negative comments × how "
                     "negative they are).",
    "warnings": "Warnings", "issues_head": "Issues to act on first (top {n})",
    "no_issues": "No topic gathered negative comments.", "n_items": "{n} comments",
    "mean_score": "mean score", "priority": "priority", "impact_on": "impact on {what}", "mean_of": "mean {column}",
    "keywords": "keywords", "why": "why negative", "topic_list": "Topics", "breakdown": "Sentiment",
    "themes": "themes", "theme": "theme", "theme_list": "Themes and topics",
    "theme_note": "Similar topics grouped into themes (click one to see its sub-topics); counts and shares are the "
                  "sums of its sub-topics'.",
    "n_subtopics": "{n} topics", "no_theme": "Comments in no theme", "more_topics": " and {n} more",
    "count": "comments", "size": "size", "mean": "mean", "trends": "Trends", "share": "share", "neg_share": "negative share",
    "stage": "journey stage", "mean_sentiment": "mean sentiment", "map": "Customer journey × experience dimension",
    "map_note": "How many comments about each experience dimension at each stage; darker means more.", "total": "total",
    "by_stage": "Sentiment by journey stage", "stage_short": "stage", "drill": "Topic details", "main_stages": "main stages",
    "drill_counts": "{primary} as the main subject, {mentions} mentioned inside comments about another subject",
    "mentions_head": "Mentions inside comments about another subject (the part about this topic quoted)",
    "mention": "mention", "mention_of": "the comment's main subject: {label}",
    "offline": "This report opens offline (nothing is loaded from outside).",
    "masked": "Personal data (e-mail, phone, postal code, card number, names) is masked.",
    "not_masked": "Personal data (e-mail, phone, postal code, card number, names) is not masked.",
    "status": {S.STATUS_EMPTY: "empty", S.STATUS_NO_CONTENT: "symbols only", S.STATUS_TOO_SHORT: "too short",
               S.STATUS_NON_ANSWER: "non-answers"},
    "trend": {"first": "first period", "gone": "none {this}", "merged": "merged into topic {id}",
              "split": " (split from topic {id})",
              "new": "new topic{origin}: share {share}% ({prev}'s comments checked with the same rule: {prev_share}%, q={q})",
              "share": "share {a}% → {b}% ({pts}pt, q={q})", "neg": "negative {a}% → {b}%", "sep": "; "},
    "lineage": {"new": "new", "continued": "continued", "grown": "grown", "shrunk": "shrunk", "gone": "gone",
                "merged": "merged", "split": "split"},
}


def words_for(language: str, period: str | None) -> dict:
    """The report's words with the period's kind filled in (週次 / 今月 / last quarter ...)."""
    base = EN if language == "en" else JA
    kind_word, this, prev = PERIOD_WORDS[base["lang"]][period_kind(period)]
    def fill(v):
        return v.replace("{this}", this).replace("{prev}", prev).replace("{kind}", kind_word)

    return {k: fill(v) if isinstance(v, str) else {kk: fill(vv) for kk, vv in v.items()} for k, v in base.items()}


def _pct(v, digits: int = 1) -> str:
    return f"{100 * float(v):.{digits}f}"


def _missing(v) -> bool:
    return v is None or bool(pd.isna(v))


def trend_text(r, words: dict) -> str:
    """A topic's change since the previous period, in the report's language (from its topics.csv row)."""
    t = words["trend"]
    lineage = r.get("lineage")
    if not isinstance(lineage, str) or lineage == "":
        return ""
    if lineage == "new" and (_missing(r.get("baseline_measured")) or not r.get("baseline_measured")):
        return t["first"]
    if lineage == "gone":
        return t["gone"]
    related = r.get("related_topic")
    rel = "" if _missing(related) else str(int(related))
    if lineage == "merged":
        return t["merged"].replace("{id}", rel)
    if lineage in ("new", "split"):
        origin = t["split"].replace("{id}", rel) if lineage == "split" else ""
        return (t["new"].replace("{origin}", origin).replace("{share}", _pct(r["share"]))
                .replace("{prev_share}", _pct(r["prev_share"])).replace("{q}", f"{float(r['q_share']):.3f}"))
    parts = [t["share"].replace("{a}", _pct(r["prev_share"])).replace("{b}", _pct(r["share"]))
             .replace("{pts}", f"{100 * float(r['share_change']):+.1f}").replace("{q}", f"{float(r['q_share']):.3f}")]
    prev_neg = r.get("prev_negative_share")
    if not _missing(prev_neg):
        parts.append(t["neg"].replace("{a}", _pct(prev_neg, 0)).replace("{b}", _pct(r["negative_share"], 0)))
    return t["sep"].join(parts)


def title_for(title: str | None, words: dict) -> str:
    return title or words["title"]
