"""Rebuild the real-text evaluation collection from local git mirrors.

EVALUATION ONLY: the texts written by this script are real public customer
comments. Never commit them and never train on them. They go to the git-ignored
folder ``.realtext/`` (it carries its own ``.gitignore``).

Usage (from the repository root):

    python benchmarks/realtext/build.py                # mirrors under /work/.mirror
    python benchmarks/realtext/build.py --mirror-root DIR --cap 5000 --seed 20240601

Each mirror is a bare git directory as produced by the search tool's ``fetch``
(``<mirror-root>/<owner>+<name>/repo``); files are read with ``git show``, so no
work tree is needed. Only pandas / numpy / stdlib are used.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd

# ---------------------------------------------------------------------------
# Mirror table: one row per repository.  ``commit`` pins the snapshot that the
# committed sample_uids.txt was drawn from; when that commit is not in the
# local mirror the script says so and uses HEAD instead (ids may then differ).
# ---------------------------------------------------------------------------
FUKUI_MONTHS = [f"{y}{m:02d}" for y in range(2022, 2027) for m in range(1, 13)
                if "202204" <= f"{y}{m:02d}" <= "202608"]

MIRRORS = [
    {
        "repo": "code4fukui/fukui-kanko-survey",
        "commit": "538ccff6b6cb033436f30487e4485b425283aa60",
        "paths": [f"monthly/{ym}.csv" for ym in FUKUI_MONTHS],
        "parser": "fukui_survey",
        "licence": "CC BY 4.0 (福井県観光連盟 / Fukui Tourism Federation open data, "
                   "FTAS; stated in the repo README up to 2026-06; attribution required)",
    },
    {
        # The area files are cumulative; newer versions grew past the 4 MiB snapshot
        # limit, so each path is pinned to its last complete version ("<commit>:<path>").
        # ``commit`` is the newest of the three (used for resolve_commit / sources.json).
        "repo": "code4fukui/ishikawa-kanko-survey",
        "commit": "ea2cb70ef98f52ecf510ecae4dd94d3f64b65d65",
        "paths": [
            "485cf50907077b4872262a07521b07ace910d498:kaga.csv",      # 2025-09-03, 加賀
            "8819d23e6a293707d7e220289b356c609a6e0d2f:kanazawa.csv",  # 2024-11-05, 金沢
            "ea2cb70ef98f52ecf510ecae4dd94d3f64b65d65:noto.csv",      # 2026-04-12, 能登
        ],
        "parser": "ishikawa_survey",
        "licence": "none stated for the data: the repo README says the open data is provided by "
                   "石川県観光戦略推進部 観光企画課 (Milli platform) but names no licence; repo code MIT. "
                   "Evaluation only; attribute 「石川県観光データ分析プラットフォーム Milli」",
    },
]

# Sources produced from the mirrors above.  One survey holds several free-text
# questions; each question is its own source because the register differs
# (reason for a rating, complaint, request, recommendation).
FIVE_POINT = {"とても不満": 1.0, "不満": 2.0, "どちらでもない": 3.0, "満足": 4.0, "とても満足": 5.0}

SOURCES = {
    # name: (mirror repo, text column, rating column, rating map or "int", register, note)
    "fukui_satisfaction": ("code4fukui/fukui-kanko-survey", "満足度の理由", "満足度", FIVE_POINT,
                           "survey_free_text", "reason for overall satisfaction with the visited area; rating 1-5"),
    "fukui_product": ("code4fukui/fukui-kanko-survey", "満足度(商品・サービス)の理由", "満足度(商品・サービス)",
                      FIVE_POINT, "survey_free_text",
                      "reason for satisfaction with products/services bought; rating 1-5"),
    "fukui_transport": ("code4fukui/fukui-kanko-survey", "福井県内での交通手段の満足度の理由",
                        "福井県内での交通手段の満足度", FIVE_POINT, "survey_free_text",
                        "reason for satisfaction with local transport; rating 1-5"),
    "fukui_recommend": ("code4fukui/fukui-kanko-survey", "推奨項目", "NPS", "int", "survey_free_text",
                        "what the visitor would recommend; rating = NPS 0-10"),
    "fukui_inconvenience": ("code4fukui/fukui-kanko-survey", "不便さの内容", None, None, "complaint",
                            "what was inconvenient (asked only when 不便さ=感じた); no rating"),
    "fukui_requests": ("code4fukui/fukui-kanko-survey", ["施設に求めるもの", "福井県に求めるもの"], None, None,
                       "request", "wishes for the facility / for Fukui Prefecture; no rating"),
    # Ishikawa tourism survey (Milli); columns renamed to short names by parse_ishikawa_survey.
    "ishikawa_facility": ("code4fukui/ishikawa-kanko-survey", "満足度理由（施設）", "満足度（施設）", FIVE_POINT,
                          "survey_free_text", "reason for satisfaction with the facility as a whole; rating 1-5"),
    "ishikawa_product": ("code4fukui/ishikawa-kanko-survey", "満足度理由（商品・サービス）", "満足度（商品・サービス）",
                         FIVE_POINT, "survey_free_text",
                         "reason for satisfaction with the facility's products/services; rating 1-5"),
    "ishikawa_transport": ("code4fukui/ishikawa-kanko-survey", "満足度理由（交通手段）", "満足度（交通手段）",
                           FIVE_POINT, "survey_free_text",
                           "reason for satisfaction with public transport/taxi used; rating 1-5"),
    "ishikawa_recommend": ("code4fukui/ishikawa-kanko-survey", "推薦理由", "NPS（旅行）", "int", "survey_free_text",
                           "what the visitor would recommend and why; rating = trip NPS 0-10 "
                           "(question added later, so fewer rows)"),
    "ishikawa_inconvenience": ("code4fukui/ishikawa-kanko-survey", "不便理由", None, None, "complaint",
                               "what was inconvenient at the facility (asked when 不便=感じた); no rating"),
    "ishikawa_requests": ("code4fukui/ishikawa-kanko-survey", ["自由意見（施設）", "自由意見（県内）"], None, None,
                          "request", "food/souvenir/activity wishes for the facility / for Ishikawa; no rating"),
}

# Visit-purpose flag columns of the Fukui survey (used as a subject category).
FUKUI_PURPOSES = {
    "宿でのんびり過ごす": "宿泊・のんびり", "温泉や露天風呂": "温泉", "地元の美味しいものを食べる": "食",
    "花見や紅葉などの自然鑑賞": "自然鑑賞", "名所、旧跡の観光": "名所・旧跡",
    "テーマパーク（遊園地、動物園、博物館など）": "テーマパーク・博物館", "買い物、アウトレット": "買い物",
    "お祭りやイベントへの参加・見物": "祭り・イベント", "アウトドア（海水浴、釣り、登山など）": "アウトドア",
    "まちあるき、都市散策": "まちあるき", "各種体験（手作り、果物狩りなど）": "体験",
    "ドライブ・ツーリング": "ドライブ", "出張など仕事関係": "仕事",
}

TOPIC_CAP = 3000
RESERVED = ("TownWiFi app reviews, megagonlabs jrte-corpus / ebe-dataset / hotel_review_scud, "
            "Hot Pepper Beauty scrapes, Rakuten-book scrapes, みんなの大学情報 scrapes, "
            "ku-nlp AnnotatedFKCCorpus, MLIT vehicle-defect / リコール 不具合 data, WRIME, pubcom-seiri")


class BuildError(RuntimeError):
    pass


def mirror_dir(root: Path, repo: str) -> Path:
    return root / repo.replace("/", "+") / "repo"


def git(gitdir: Path, *args: str) -> bytes:
    res = subprocess.run(["git", "--git-dir", str(gitdir), *args], capture_output=True)
    if res.returncode != 0:
        raise BuildError(f"git {' '.join(args)} failed in {gitdir}: {res.stderr.decode(errors='replace').strip()}")
    return res.stdout


def resolve_commit(gitdir: Path, wanted: str | None) -> str:
    if wanted:
        ok = subprocess.run(["git", "--git-dir", str(gitdir), "cat-file", "-e", f"{wanted}^{{commit}}"],
                            capture_output=True).returncode == 0
        if ok:
            return wanted
        print(f"warning: pinned commit {wanted[:12]} not in {gitdir}; using HEAD (doc_ids stay stable, "
              f"but rows may differ from sample_uids.txt)", file=sys.stderr)
    return git(gitdir, "rev-parse", "HEAD").decode().strip()


def sid(*parts: str) -> str:
    return hashlib.sha1("\x1f".join(parts).encode("utf-8")).hexdigest()[:12]


# ---------------------------------------------------------------------------
# Parsers: (gitdir, commit, paths) -> raw DataFrame (all str columns)
# ---------------------------------------------------------------------------
def parse_fukui_survey(gitdir: Path, commit: str, paths: list[str]) -> tuple[pd.DataFrame, list[str]]:
    frames, used = [], []
    for p in paths:
        try:
            raw = git(gitdir, "show", f"{commit}:{p}")
        except BuildError:
            continue  # month not present in this snapshot
        df = pd.read_csv(io.BytesIO(raw), dtype=str, keep_default_na=False, encoding="utf-8-sig")
        df["_file"] = p
        frames.append(df)
        used.append(p)
    if not frames:
        raise BuildError(f"no survey files found in {gitdir} at {commit[:12]}")
    df = pd.concat(frames, ignore_index=True, sort=False).fillna("")
    # A response is identified by member id + answer timestamp + answered area.
    df["_rid"] = [sid(a, b, c) for a, b, c in zip(df["会員ID"], df["回答日時"], df["回答エリア"])]
    df = df.drop_duplicates("_rid", keep="first")
    return df, used


# Ishikawa (Milli) survey: raw Google-Form questions -> short names.  A column gets the
# name of the first rule whose text it contains; ("=", x) rules must match exactly.
ISHIKAWA_COLUMNS = [
    ("=施設", "施設"), ("タイムスタンプ", "回答日時"),
    ("訪問目的は何ですか", "訪問目的"),
    ("当該の交通手段をお使いいただいた満足度", "満足度（交通手段）"),
    ("上記満足度の理由について、具体的に教えてください", "満足度理由（交通手段）"),
    ("商品・サービスの満足度をお答えください", "満足度（商品・サービス）"),
    ("(サービス)", "満足度理由（商品・サービス）"),
    ("施設全体の満足度をお答えください", "満足度（施設）"),
    ("(施設全体)", "満足度理由（施設）"),
    ("不便を感じたり、困ったことについて", "不便理由"),
    ("へのお出かけを、どのくらい家族や友人に", "NPS（施設）"),
    ("石川県への旅行を、どのくらい家族や友人に", "NPS（旅行）"),
    ("特に人に薦めたいと感じたもの", "推薦理由"),
    ("あなたが求めている石川県の飲食", "自由意見（県内）"),
    ("の飲食、土産、アクティビティ", "自由意見（施設）"),
    ("性別をお答えください", "性別"), ("生まれた年", "生年"), ("お住いの都道府県", "都道府県"),
]
ISHIKAWA_AREAS = {"kaga.csv": "加賀", "kanazawa.csv": "金沢", "noto.csv": "能登"}


def _ishikawa_name(col: str) -> str | None:
    for key, short in ISHIKAWA_COLUMNS:
        if (key[1:] == col.strip()) if key.startswith("=") else (key in col):
            return short
    return None


def parse_ishikawa_survey(gitdir: Path, commit: str, paths: list[str]) -> tuple[pd.DataFrame, list[str]]:
    """Area files of the Ishikawa survey; each path is '<commit>:<file>' (its own pinned version)."""
    frames, used = [], []
    for spec in paths:
        pcommit, p = spec.split(":", 1) if ":" in spec else (commit, spec)
        try:
            raw = git(gitdir, "show", f"{pcommit}:{p}")
        except BuildError as e:
            raise BuildError(f"{p} @ {pcommit[:12]} not readable in {gitdir} (re-fetch the mirror; "
                             f"newer versions are over the 4 MiB snapshot limit): {e}") from None
        df = pd.read_csv(io.BytesIO(raw), dtype=str, keep_default_na=False, encoding="utf-8-sig")
        ren = {}
        for c in df.columns:
            short = _ishikawa_name(c)
            if short and short not in ren.values():
                ren[c] = short
        df = df[list(ren)].rename(columns=ren)
        df["回答エリア"] = ISHIKAWA_AREAS.get(p, p)
        df["_file"] = spec
        frames.append(df)
        used.append(spec)
    df = pd.concat(frames, ignore_index=True, sort=False).fillna("")
    for c in ("施設", "回答日時", "性別", "生年", "都道府県"):
        if c not in df.columns:
            df[c] = ""
    # No respondent id in this survey: area + facility + timestamp + (sex, birth year, prefecture).
    df["_rid"] = [sid("ishikawa", *vals) for vals in
                  zip(df["回答エリア"], df["施設"], df["回答日時"], df["性別"], df["生年"], df["都道府県"])]
    df = df.drop_duplicates("_rid", keep="first").reset_index(drop=True)
    df["_purpose"] = ishikawa_purpose(df)
    return df, used


def ishikawa_purpose(df: pd.DataFrame) -> pd.Series:
    """The single visit purpose (comma-separated multi-select), or '' when 0 or 2+ were ticked."""
    if "訪問目的" not in df.columns:
        return pd.Series("", index=df.index)
    def one(v: str) -> str:
        items = [x.strip() for x in str(v).split(",") if x.strip()]
        return FUKUI_PURPOSES.get(items[0], items[0]) if len(items) == 1 else ""
    return df["訪問目的"].map(one)


PARSERS = {"fukui_survey": parse_fukui_survey, "ishikawa_survey": parse_ishikawa_survey}


def _rating(series: pd.Series, rmap) -> pd.Series:
    if rmap is None:
        return pd.Series(np.nan, index=series.index, dtype=float)
    if rmap == "int":
        return pd.to_numeric(series, errors="coerce").astype(float)
    return series.map(rmap).astype(float)


def fukui_purpose(df: pd.DataFrame) -> pd.Series:
    """The single visit purpose ticked by a respondent, or '' when 0 or 2+ were ticked."""
    cols = [c for c in FUKUI_PURPOSES if c in df.columns]
    flags = df[cols].apply(lambda s: s.astype(str).str.strip().isin(["1", "1.0", "TRUE", "True"]))
    one = flags.sum(axis=1) == 1
    label = flags.idxmax(axis=1).map(FUKUI_PURPOSES)
    return label.where(one, "")


def extract_source(name: str, raw: pd.DataFrame) -> pd.DataFrame:
    _repo, tcol, rcol, rmap, _reg, _note = SOURCES[name]
    tcols = tcol if isinstance(tcol, list) else [tcol]
    purpose = raw["_purpose"] if "_purpose" in raw.columns else fukui_purpose(raw)
    parts = []
    for c in tcols:
        if c not in raw.columns:
            continue
        part = pd.DataFrame({
            "doc_id": raw["_rid"] + (":" + str(tcols.index(c)) if len(tcols) > 1 else ""),
            "text": raw[c].astype(str),
            "rating": _rating(raw[rcol], rmap) if rcol and rcol in raw.columns
            else pd.Series(np.nan, index=raw.index, dtype=float),
            # category: the question for multi-question sources, else the single visit purpose
            "category": (c if len(tcols) > 1 else purpose),
            "area": raw["回答エリア"].astype(str),
        })
        parts.append(part)
    out = pd.concat(parts, ignore_index=True)
    out = out[out["text"].str.strip() != ""]
    out = out.drop_duplicates("text", keep="first")  # exact duplicates only; text kept as written
    out = out.drop_duplicates("doc_id", keep="first")
    out["source"] = name
    return out.reset_index(drop=True)


def cap_rows(df: pd.DataFrame, cap: int | None, seed: int) -> pd.DataFrame:
    if cap and len(df) > cap:
        df = df.sample(n=cap, random_state=seed)
    return df.sort_values("doc_id").reset_index(drop=True)


def build_topics(raw: pd.DataFrame, seed: int) -> dict[str, pd.DataFrame]:
    """Two categorised views of the Fukui survey (categories are subjects, not sentiment)."""
    topics = {}
    # 1) Which question the text answers: each question is about a different subject.
    qmap = {"福井県内での交通手段の満足度の理由": "交通手段", "満足度(商品・サービス)の理由": "商品・サービス",
            "施設に求めるもの": "施設への要望", "福井県に求めるもの": "福井県への要望", "不便さの内容": "不便だった点"}
    rows = []
    for col, label in qmap.items():
        if col in raw.columns:
            rows.append(pd.DataFrame({"doc_id": raw["_rid"] + ":" + label, "text": raw[col].astype(str),
                                      "category": label}))
    q = pd.concat(rows, ignore_index=True)
    q = q[q["text"].str.strip().str.len() >= 5].drop_duplicates("text")
    topics["fukui_question"] = _balanced(q, TOPIC_CAP, seed)
    # 2) Satisfaction reasons of respondents who ticked exactly one visit purpose.
    p = pd.DataFrame({"doc_id": raw["_rid"], "text": raw["満足度の理由"].astype(str),
                      "category": fukui_purpose(raw)})
    p = p[(p["category"] != "") & (p["text"].str.strip().str.len() >= 5)].drop_duplicates("text")
    keep = p["category"].value_counts()
    p = p[p["category"].isin(keep[keep >= 40].index)]
    topics["fukui_purpose"] = _balanced(p, TOPIC_CAP, seed)
    return topics


# Facility -> facility type, by keywords in the facility name (first match wins; the rest
# are dropped).  The type is the subject of the 施設全体 satisfaction reasons.
ISHIKAWA_FACILITY_TYPES = [
    ("道の駅", "道の駅・SA/PA"), ("ＳＡ", "道の駅・SA/PA"), ("ＰＡ", "道の駅・SA/PA"), ("パーキング", "道の駅・SA/PA"),
    ("市場", "市場・物産館"), ("物産館", "市場・物産館"), ("レストハウス", "市場・物産館"),
    ("空港", "空港"), ("総湯", "温泉総湯"),
    *[(k, "宿泊施設") for k in ("ホテル", "HOTEL", "ＨＯＴＥＬ", "Ｈｏｔｅｌ", "旅館", "宿", "旅亭", "四季亭", "吉祥亭",
                            "荘", "リゾート", "ゲストハウス", "ゲストルーム", "ペンション", "休暇村", "いこいの村",
                            "ポイントバケーション", "チサン", "倶楽部", "東横イン")],
    ("駅", "駅・鉄道"), ("鉄道", "駅・鉄道"), ("トレインパーク", "駅・鉄道"),
    ("水族館", "動物園・水族館・昆虫館"), ("動物園", "動物園・水族館・昆虫館"), ("昆虫館", "動物園・水族館・昆虫館"),
    *[(k, "博物館・美術館・図書館") for k in ("図書館", "美術館", "博物館", "資料館", "記念館", "ミュージアム",
                                       "お祭り会館", "コスモアイル", "航空プラザ", "蓄音器館")],
    *[(k, "観光案内所・休憩館") for k in ("観光案内所", "観光情報センター", "観光交流センター", "休憩館",
                                    "インフォメーション")],
    *[(k, "名所・旧跡・公園") for k in ("城", "神社", "大社", "兼六園", "公園", "那谷寺", "安宅の関", "巌門")],
]


def ishikawa_facility_type(name: str) -> str:
    for key, label in ISHIKAWA_FACILITY_TYPES:
        if key in name:
            return label
    return ""


def build_topics_ishikawa(raw: pd.DataFrame, seed: int) -> dict[str, pd.DataFrame]:
    """Two categorised views of the Ishikawa survey (subjects, not sentiment); weak labels."""
    topics = {}
    qmap = {"満足度理由（交通手段）": "交通手段", "満足度理由（商品・サービス）": "商品・サービス",
            "不便理由": "不便だった点", "自由意見（施設）": "施設への要望", "自由意見（県内）": "石川県への要望",
            "推薦理由": "薦めたいもの"}
    rows = [pd.DataFrame({"doc_id": raw["_rid"] + ":" + label, "text": raw[col].astype(str), "category": label})
            for col, label in qmap.items() if col in raw.columns]
    q = pd.concat(rows, ignore_index=True)
    q = q[q["text"].str.strip().str.len() >= 5].drop_duplicates("text")
    topics["ishikawa_question"] = _balanced(_min_count(q, 30), TOPIC_CAP, seed)
    f = pd.DataFrame({"doc_id": raw["_rid"], "text": raw["満足度理由（施設）"].astype(str),
                      "category": raw["施設"].astype(str).map(ishikawa_facility_type)})
    f = f[(f["category"] != "") & (f["text"].str.strip().str.len() >= 5)].drop_duplicates("text")
    topics["ishikawa_facility_type"] = _balanced(_min_count(f, 30), TOPIC_CAP, seed)
    return topics


def _min_count(df: pd.DataFrame, n: int) -> pd.DataFrame:
    keep = df["category"].value_counts()
    return df[df["category"].isin(keep[keep >= n].index)]


TOPIC_BUILDERS = {"ishikawa_survey": build_topics_ishikawa}


def _balanced(df: pd.DataFrame, cap: int, seed: int) -> pd.DataFrame:
    """Cap at ``cap`` rows, taking at most an equal share per category (seeded)."""
    k = df["category"].nunique()
    share = max(1, cap // max(k, 1))
    parts = [g.sample(n=min(len(g), share), random_state=seed) for _, g in df.groupby("category", sort=True)]
    out = pd.concat(parts).sort_values(["category", "doc_id"]).reset_index(drop=True)
    return out[["doc_id", "text", "category"]]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--mirror-root", default=os.environ.get("REALTEXT_MIRROR_ROOT", "/work/.mirror"))
    ap.add_argument("--out", default=str(Path(__file__).resolve().parents[2] / ".realtext"))
    ap.add_argument("--cap", type=int, default=5000, help="max rows per source (seeded sample); 0 = no cap")
    ap.add_argument("--seed", type=int, default=20240601)
    args = ap.parse_args(argv)

    root, out = Path(args.mirror_root), Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / ".gitignore").write_text("# evaluation-only real texts: never commit\n*\n", encoding="utf-8")

    meta = {"_note": "EVALUATION ONLY - real public texts; never commit, never train on them.",
            "_reserved_never_used": RESERVED, "sources": {}, "topics": {}}
    for m in MIRRORS:
        gitdir = mirror_dir(root, m["repo"])
        if not (gitdir / "HEAD").exists():
            print(f"error: mirror of {m['repo']} missing at {gitdir}; fetch it first "
                  f"(search tool: fetch github:{m['repo']}) or pass --mirror-root", file=sys.stderr)
            return 2
        commit = resolve_commit(gitdir, m.get("commit"))
        raw, used = PARSERS[m["parser"]](gitdir, commit, m["paths"])
        for name, spec in SOURCES.items():
            if spec[0] != m["repo"]:
                continue
            full = extract_source(name, raw)
            df = cap_rows(full, args.cap, args.seed)
            df[["doc_id", "text", "rating", "category", "source", "area"]].to_parquet(
                out / f"{name}.parquet", index=False)
            meta["sources"][name] = {
                "repository": m["repo"], "commit": commit, "paths": used, "parser": m["parser"],
                "licence": m["licence"], "register": spec[4], "text_field": spec[1],
                "rating_field": spec[2], "note": spec[5], "rows": int(len(df)),
                "rows_before_cap": int(len(full)), "cap": args.cap, "seed": args.seed,
                "rated_rows": int(df["rating"].notna().sum()),
            }
            print(f"{name:22s} {len(df):6d} rows")
        builder = build_topics if m["parser"] == "fukui_survey" else TOPIC_BUILDERS.get(m["parser"])
        if builder is not None:
            for tname, tdf in builder(raw, args.seed).items():
                tdf.to_parquet(out / f"topics_{tname}.parquet", index=False)
                meta["topics"][tname] = {
                    "repository": m["repo"], "commit": commit, "rows": int(len(tdf)),
                    "categories": {k: int(v) for k, v in tdf["category"].value_counts().sort_index().items()},
                }
                print(f"topics_{tname:15s} {len(tdf):6d} rows, {tdf['category'].nunique()} categories")
    (out / "sources.json").write_text(json.dumps(meta, ensure_ascii=False, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BuildError as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(1)
