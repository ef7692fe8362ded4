"""Themes: the number of themes, planted groups found, carried over across periods, sums of sub-topics."""

import numpy as np
import pandas as pd
import pytest

from vocnlp.config import ThemesConfig
from vocnlp.errors import ConfigError
from vocnlp.stages import themes as T


def planted(n_groups: int, per_group: int, d: int = 48, seed: int = 0):
    """Topic centroids in ``n_groups`` tight groups around random directions; topic table with sizes and words."""
    rng = np.random.RandomState(seed)
    centres = rng.randn(n_groups, d)
    C, rows = {}, []
    words = ["配送", "店員", "アプリ", "価格", "品質", "サイズ", "駐車場", "清潔", "予約", "支払い", "在庫", "接客"]
    for g in range(n_groups):
        for j in range(per_group):
            t = g * per_group + j
            v = centres[g] + 0.25 * rng.randn(d)
            C[t] = v / np.linalg.norm(v)
            rows.append({"topic_id": t, "topic_label": f"{words[g]}・語{t}", "keywords": f"{words[g]}、語{t}、共通{g}",
                         "size": 10 + t})
    return C, pd.DataFrame(rows), [t // per_group for t in range(n_groups * per_group)]


@pytest.mark.parametrize("n_topics,lo,hi", [(30, 5, 10), (15, 5, 7), (8, 4, 4), (4, 2, 2), (3, 1, 1), (1, 1, 1)])
def test_allowed_number_of_themes(n_topics, lo, hi):
    assert T.theme_range(n_topics, ThemesConfig()) == (lo, hi)


def test_min_above_max_is_a_config_error():
    from vocnlp.config import load_config

    with pytest.raises(ConfigError, match="min_themes"):
        load_config(None, {"themes.min_themes": 8, "themes.max_themes": 6})


@pytest.mark.parametrize("n_groups", [5, 6, 8])
def test_planted_groups_are_found_and_count_in_range(n_groups):
    C, table, truth = planted(n_groups, 4)
    res = T.fit_themes(C, table, ThemesConfig())
    assert len(set(res.parent.values())) == n_groups  # the largest jump in merge heights sits at the planted cut
    for g in range(n_groups):  # each planted group is exactly one theme
        assert len({res.parent[t] for t in C if truth[t] == g}) == 1
    assert 5 <= len(set(res.parent.values())) <= 10
    # labels come from the sub-topics' words: the word all of a group's topics share
    words = ["配送", "店員", "アプリ", "価格", "品質", "サイズ", "駐車場", "清潔"]
    words_of = {th: [w for w in words if any(w in table.topic_label[t] for t, p in res.parent.items() if p == th)]
                for th in set(res.parent.values())}
    labelled = T.fit_themes(C, table, ThemesConfig(), words=lambda parent: words_of)
    assert sorted(labelled.labels.values()) == sorted(words[:n_groups])


def test_few_topics_give_few_themes_and_one_topic_is_its_own_theme():
    C, table, _ = planted(2, 2)
    res = T.fit_themes(C, table, ThemesConfig())
    assert len(set(res.parent.values())) == 2
    one = T.fit_themes({0: C[0]}, table.head(1), ThemesConfig())
    # a one-topic theme is named as its topic: by its first noun when the topic is named by two keywords ...
    assert one.parent == {0: 0} and table.topic_label[0] == "配送・語0" and one.labels[0] == "配送"
    phrase = T.fit_themes({0: C[0]}, table.head(1).assign(topic_label="配送が遅い"), ThemesConfig())
    assert phrase.labels[0] == "配送が遅い"  # ... by its key phrase when it has one
    assert T.fit_themes({}, table.head(0), ThemesConfig()).parent == {}


def test_known_topics_keep_their_theme_and_a_new_topic_joins_the_nearest():
    C, table, truth = planted(6, 4)
    first = T.fit_themes(C, table, ThemesConfig())
    known = first.new_themes
    # next period: the centroids drift a little, a new topic appears next to group 2, and the
    # clustering of the drifted centroids alone might cut differently, which must not matter
    rng = np.random.RandomState(1)
    drifted = {t: (c + 0.15 * rng.randn(len(c))) for t, c in C.items()}
    drifted = {t: c / np.linalg.norm(c) for t, c in drifted.items()}
    near2 = np.mean([C[t] for t in C if truth[t] == 2], axis=0)
    drifted[99] = near2 / np.linalg.norm(near2)
    table2 = pd.concat([table, pd.DataFrame([{"topic_id": 99, "topic_label": "新・話題", "keywords": "新", "size": 5}])])
    res = T.track_themes(drifted, table2, ThemesConfig(), first.parent, known, next_id=len(known))
    assert {t: res.parent[t] for t in C} == first.parent
    assert res.parent[99] == first.parent[8]  # topic 8 is in group 2
    assert res.new_links == {99: first.parent[8]} and res.new_themes.empty
    assert res.labels == {th: first.labels[th] for th in res.labels}  # labels kept from the first period
    # a history without themes yet (its first period, or written before themes existed): fitted, new ids
    fresh = T.track_themes(drifted, table2, ThemesConfig(), {}, known.head(0), next_id=7)
    assert min(fresh.parent.values()) == 7 and set(fresh.new_links) == set(drifted)



def _unit(v):
    return v / np.linalg.norm(v)


def _towards(a, b, cos):
    """A unit vector at cosine ``cos`` to the unit vector ``a``, in the plane of ``a`` and ``b``."""
    ortho = _unit(b - (b @ a) * a)
    return cos * a + np.sqrt(1 - cos**2) * ortho


def test_the_far_threshold_is_the_loosest_sub_topic_of_the_known_themes():
    C, table, _ = planted(6, 4)
    first = T.fit_themes(C, table, ThemesConfig())
    sims = T.theme_spread(C, first.parent)
    assert len(sims) == len(C)  # every theme has 4 sub-topics: each is measured against the other 3
    by_hand = []
    for t, th in first.parent.items():
        rest = _unit(np.mean([C[o] for o, p in first.parent.items() if p == th and o != t], axis=0))
        by_hand.append(float(rest @ C[t]))
    assert T.far_threshold(C, first.parent) == pytest.approx(min(by_hand))
    assert 0.5 < min(by_hand) < 1  # tight planted groups
    assert T.far_threshold(C, {t: t for t in C}) is None  # one sub-topic per theme: nothing to measure


def test_a_far_new_topic_starts_its_own_theme_and_known_themes_stay():
    C, table, truth = planted(6, 4)
    first = T.fit_themes(C, table, ThemesConfig())
    known, thr = first.new_themes, T.far_threshold(C, first.parent)
    rng = np.random.RandomState(7)
    new_dir = _unit(rng.randn(len(C[0])))  # a subject unrelated to every planted group (cosine about 0)
    near2 = _unit(np.mean([C[t] for t in C if truth[t] == 2], axis=0))
    cents = {**C, 99: new_dir, 100: _unit(new_dir + 0.2 * rng.randn(len(new_dir)) / np.sqrt(len(new_dir))),
             101: near2, 102: _unit(rng.randn(len(new_dir)))}
    rows = [(99, "バイトの面接", "面接、応募、採用", 30), (100, "面接の返事がない", "応募、返事、面接", 10),
            (101, "新・話題", "新", 5), (102, "ガソリンの値段", "ガソリン、給油", 8)]
    table2 = pd.concat([table, _table(rows)], ignore_index=True)
    words = {th: ["面接", "応募"] for th in range(len(known) + 2)}  # each theme's c-TF-IDF words (here: the same)
    res = T.track_themes(cents, table2, ThemesConfig(), first.parent, known, next_id=len(known),
                         words=lambda parent: words)
    assert {t: res.parent[t] for t in C} == first.parent  # known topics keep their themes: trend lines go on
    assert res.parent[101] == first.parent[8]  # close to group 2: joins it, as before
    # 99 and 100 (one new subject) found one new theme; 102 (another) a second; ids after the known ones
    assert res.parent[99] == res.parent[100] == len(known) and res.parent[102] == len(known) + 1
    assert res.labels[len(known)] == "面接"  # the noun its two sub-topics share
    assert res.labels[len(known) + 1] == "ガソリンの値段"  # a one-topic theme: its topic's label
    assert {th: res.labels[th] for th in first.labels} == first.labels  # known labels kept
    assert res.new_themes.theme_id.tolist() == [len(known), len(known) + 1]  # stored as born this period
    assert res.new_links == {99: len(known), 100: len(known), 101: first.parent[8], 102: len(known) + 1}
    born = {d["theme_id"]: d for d in res.params["new_themes"]}
    assert born[len(known)]["topic_ids"] == [99, 100] and born[len(known)]["nearest_known"] < thr
    assert res.params["far_threshold"] == pytest.approx(thr, abs=1e-4) and res.params["joined_nearest_theme"] == 1


@pytest.mark.parametrize("margin,starts", [(0.02, False), (-0.02, True)])
def test_the_threshold_decides_between_joining_and_a_new_theme(margin, starts):
    C, table, _ = planted(6, 4)
    first = T.fit_themes(C, table, ThemesConfig())
    thr = T.far_threshold(C, first.parent)
    theme_ids = sorted(set(first.parent.values()))
    cent = {th: _unit(np.mean([C[t] for t, p in first.parent.items() if p == th], axis=0)) for th in theme_ids}
    rng = np.random.RandomState(3)
    # a topic at cosine threshold ± margin to theme 0's centroid, and farther from every other theme
    for _ in range(100):
        v = _towards(cent[0], rng.randn(len(cent[0])), thr + margin)
        if max(float(cent[th] @ v) for th in theme_ids[1:]) < thr - 0.05:
            break
    res = T.track_themes({**C, 50: v}, pd.concat([table, _table([(50, "何か", "何か", 5)])], ignore_index=True),
                         ThemesConfig(), first.parent, first.new_themes, next_id=len(theme_ids))
    assert (res.parent[50] == len(theme_ids)) is starts
    assert (res.parent[50] == 0) is not starts


def test_a_new_theme_never_takes_a_known_themes_label():
    C, table, _ = planted(6, 4)
    first = T.fit_themes(C, table, ThemesConfig())
    taken = first.labels[0]
    far = _unit(np.random.RandomState(5).randn(len(C[0])))
    rows = [(77, taken, f"{taken}、給油、ガソリン", 6)]  # the new topic happens to carry a known theme's label
    res = T.track_themes({**C, 77: far}, pd.concat([table, _table(rows)], ignore_index=True), ThemesConfig(),
                         first.parent, first.new_themes, next_id=6)
    assert res.parent[77] == 6 and res.labels[6] == "給油" and res.labels[0] == taken


def test_theme_table_and_period_stats_are_sums_of_sub_topics():
    C, table, _ = planted(5, 3)
    res = T.fit_themes(C, table, ThemesConfig())
    n = int(table["size"].sum()) + 20
    rng = np.random.RandomState(0)
    tab = table.assign(share=table["size"] / n, negative_share=rng.rand(len(table)).round(3),
                       positive_share=0.0, mean_sentiment=rng.uniform(-1, 1, len(table)).round(3))
    tab = pd.concat([tab, pd.DataFrame([{"topic_id": -1, "topic_label": "未分類", "keywords": "", "size": 20,
                                         "share": 20 / n, "negative_share": 0.5, "positive_share": 0.0,
                                         "mean_sentiment": 0.0}])])
    issues = tab[tab.topic_id >= 0][["topic_id", "topic_label"]].assign(rank=range(1, len(tab)))
    topics_out, issues_out = T.with_parents(tab, issues, res)
    assert topics_out.loc[topics_out.topic_id == -1, "parent_id"].tolist() == [-1]  # no-topic rows: no theme
    assert list(topics_out.columns[:4]) == ["topic_id", "topic_label", "parent_id", "theme_label"]
    assert (issues_out.theme_id == [res.of(t) for t in issues_out.topic_id]).all()
    themes = T.theme_table(topics_out, res)
    assert themes["size"].sum() == table["size"].sum()  # the no-topic row is outside every theme
    for _, th in themes.iterrows():
        subs = topics_out[topics_out.parent_id == th.theme_id]
        assert th["size"] == subs["size"].sum() and th.n_topics == len(subs)
        assert th["share"] == pytest.approx(subs["share"].sum(), abs=1e-3)
        assert th["negative_share"] == pytest.approx((subs.negative_share * subs["size"]).sum() / subs["size"].sum(),
                                                     abs=1e-3)
    stats = T.period_theme_stats(tab.assign(lineage="continued"), res)
    merged = tab[tab.topic_id >= 0].assign(theme=[res.of(t) for t in table.topic_id]).groupby("theme")["size"].sum()
    assert dict(zip(stats.theme_id, stats["size"])) == merged.to_dict()


def test_theme_words_are_distinctive_and_one_theme_alone_has_words():
    tokens = [["配送", "箱"], ["配送", "箱"], ["店員", "箱"], ["店員", "箱"]]
    words = T.theme_words(tokens, np.array([0, 1, 2, 3]), {0: 0, 1: 0, 2: 1, 3: 1}, 3)
    # as often in the theme, but 箱 is in every theme: the theme's own word comes first
    assert words[0][0] == "配送" and words[1][0] == "店員" and words[0][1] == "箱"
    assert T.theme_words(tokens, np.zeros(4, dtype=int), {0: 0}, 2)[0]  # one class: still words (English-only weeks)


def _table(rows):
    return pd.DataFrame([{"topic_id": t, "topic_label": lab, "keywords": kw, "size": n} for t, lab, kw, n in rows])


def test_a_theme_is_named_by_the_noun_its_sub_topics_labels_share():
    table = _table([(0, "アプリが落ちる", "アプリ、落ちる", 30), (1, "アプリのバーコード", "バーコード、アプリ", 20),
                    (2, "ポイント・期限", "ポイント、期限", 10)])
    labels, _ = T.theme_labels(table, {0: 0, 1: 0, 2: 0}, 2, {0: ["ポイント", "アプリ", "バーコード"]})
    assert labels[0] == "アプリ"  # shared by labels holding 50 of 60 comments, though ポイント is more distinctive
    # a noun two small sub-topics share does not name a theme that is mostly something else
    small = _table([(0, "配送の遅れ", "配送", 50), (1, "アプリが落ちる", "アプリ", 5), (2, "アプリの通知", "アプリ", 5)])
    labels, _ = T.theme_labels(small, {0: 0, 1: 0, 2: 0}, 2, {0: ["配送", "アプリ"]},
                               central_of_theme={0: ([], ["配送"])})
    assert labels[0] == "配送"


def test_theme_label_is_a_central_phrase_or_noun_never_a_list_and_never_one_sub_topics_label():
    table = _table([(0, "店員・毛布", "店員、毛布", 30), (1, "駐車場・家具", "駐車場、家具", 20)])
    parent = {0: 0, 1: 0}
    central = {0: (["店員・毛布", "接客が丁寧"], [])}
    labels, _ = T.theme_labels(table, parent, 2, {0: ["毛布", "駐車場"]}, central_of_theme=central)
    assert labels[0] == "接客が丁寧"  # a sub-topic's own label is skipped
    central = {0: (["接客が丁寧"], ["店員"])}
    labels, _ = T.theme_labels(table, parent, 2, {0: ["毛布", "駐車場"]}, central_of_theme=central)
    assert labels[0] == "店員" and "・" not in labels[0]  # a central noun names a theme before a phrase
    # nothing central: mixed, named by the largest sub-topic's subject with 「など」 (its first noun here)
    assert T.theme_labels(table, parent, 2, {0: ["毛布"]})[0][0] == "店員など"


def test_a_word_most_of_the_theme_does_not_use_leaves_it_mixed():
    # W44's shape: a theme of delivery, a kettle's defect, online orders and inquiries whose best central noun
    # (説明) is in 13 of its 88 comments
    table = _table([(0, "配送・依頼", "配送、依頼", 28), (1, "電気ケトル・詫び", "電気ケトル、詫び", 21),
                    (2, "注文・みどりオンライン", "注文", 17), (3, "問い合わせ・説明", "問い合わせ、説明", 12),
                    (4, "箱の角", "箱、角", 10)])
    parent = {t: 0 for t in range(5)}
    central = {0: (["説明が丁寧"], ["説明"], {"説明": 13 / 88, "説明が丁寧": 13 / 88})}
    labels, _ = T.theme_labels(table, parent, 2, {0: ["説明", "配送"]}, central_of_theme=central)
    assert labels[0] == "配送など" and T.is_mixed(labels[0])
    # the same noun used by a third of the theme's comments names it
    central = {0: (["説明が丁寧"], ["説明"], {"説明": 1 / 3, "説明が丁寧": 1 / 3})}
    labels, _ = T.theme_labels(table, parent, 2, {0: ["説明", "配送"]}, central_of_theme=central)
    assert labels[0] == "説明" and not T.is_mixed(labels[0])
    # a phrase is checked by its coverage too; a mixed theme led by a key-phrase topic keeps the phrase
    central = {0: (["説明が丁寧"], [], {"説明が丁寧": 0.2})}
    led = table.assign(topic_label=["配送が遅い", *table.topic_label[1:]])
    assert T.theme_labels(led, parent, 2, {0: ["説明"]}, central_of_theme=central)[0][0] == "配送が遅いなど"
    # the shared noun of sub-topics holding half the comments needs no coverage check (rule 2)
    apps = _table([(0, "アプリが落ちる", "アプリ", 30), (1, "アプリの通知", "アプリ", 20), (2, "ポイント・期限", "ポイント", 40)])
    assert T.theme_labels(apps, {0: 0, 1: 0, 2: 0}, 2, {0: ["アプリ"]},
                          central_of_theme={0: ([], ["ポイント"], {"ポイント": 0.1})})[0][0] == "アプリ"
    assert not T.is_mixed("など") and not T.is_mixed("") and T.is_mixed("配送など")


def test_mixed_labels_are_unique_deterministic_and_never_a_taken_one():
    # two mixed themes whose largest sub-topics share a first noun: the second takes its next sub-topic's
    table = _table([(0, "配送・依頼", "配送", 30), (1, "毛布・店員", "毛布", 20), (2, "配送・ギフト", "配送", 25),
                    (3, "駐車場・家具", "駐車場", 15)])
    parent = {0: 0, 1: 0, 2: 1, 3: 1}
    central = {0: ([], [], {}), 1: ([], [], {})}
    labels, _ = T.theme_labels(table, parent, 2, {}, central_of_theme=central)
    assert labels == {0: "配送など", 1: "駐車場など"}
    shuffled = table.sample(frac=1.0, random_state=3)
    assert T.theme_labels(shuffled, parent, 2, {}, central_of_theme=central)[0] == labels
    born, _ = T.theme_labels(table, {2: 5, 3: 5}, 2, {}, central_of_theme={5: ([], [], {})}, taken={"配送など"})
    assert born == {5: "駐車場など"}


def test_a_tracked_mixed_theme_keeps_its_label():
    C, table, _ = planted(3, 4)
    subjects = ["配送・依頼", "店員・毛布", "駐車場・家具", "電話・窓口", "箱・梱包", "色・写真", "音・時計", "服・靴",
                "鍋・蓋", "アプリ・通知", "ソファ・展示", "レジ・顔"]
    table = table.assign(topic_label=subjects)  # no noun shared across labels
    first = T.fit_themes(C, table, ThemesConfig(), phrases=lambda parent: {th: ([], [], {}) for th in set(parent.values())})
    multi = {th for th in first.labels if list(first.parent.values()).count(th) > 1}
    assert multi and all(T.is_mixed(first.labels[th]) for th in multi)  # nothing central: mixed themes
    # next period: the largest sub-topic of each theme changes; the known themes keep their labels
    table2 = table.assign(size=table["size"][::-1].to_numpy())
    res = T.track_themes(C, table2, ThemesConfig(), first.parent, first.new_themes, next_id=len(first.labels),
                         phrases=lambda parent: {th: ([], [], {}) for th in set(parent.values())})
    assert res.labels == first.labels


def test_two_themes_never_share_a_label():
    table = _table([(0, "アプリが落ちる", "アプリ", 30), (1, "アプリの通知", "アプリ", 20),
                    (2, "アプリのポイント", "アプリ", 10), (3, "アプリの決済", "アプリ", 8)])
    labels, _ = T.theme_labels(table, {0: 0, 1: 0, 2: 1, 3: 1}, 2, {0: ["アプリ"], 1: ["アプリ", "決済"]},
                               central_of_theme={1: ([], ["決済"])})
    assert labels == {0: "アプリ", 1: "決済"}


def test_central_nouns_and_phrases_span_sub_topics():
    from vocnlp.phrases import Phrase

    # theme 0 = topics 0, 1; theme 1 = topic 2. アプリ is in both sub-topics of theme 0, 通知 in one only
    tokens = [["アプリ", "通知", "不便"], ["アプリ", "通知"], ["アプリ", "落ちる", "不便"], ["アプリ", "落ちる"], ["配送"],
              ["配送"]]
    ph = Phrase("アプリが落ちる", ("アプリ",), "落ちる")
    phrases = [[], [], [ph], [ph], [], []]
    out = T.theme_central(tokens, phrases, np.array([0, 0, 1, 1, 2, 2]), {0: 0, 1: 0, 2: 1},
                          {0: ["アプリ", "通知"], 1: ["配送"]}, frozenset({"アプリ", "通知", "配送", "不便"}))
    assert out[0][1] == ["アプリ"]  # 通知 is one sub-topic's word; 不便 says "nothing to report" (NOT_SUBJECTS)
    assert out[0][0] == []  # アプリが落ちる is said in one sub-topic only
    assert out[0][2] == {"アプリ": 1.0}  # its coverage: the share of the theme's comments that use it
    assert out[1] == ([], [], {})  # a one-topic theme has nothing spread over two sub-topics


def test_counted_distinct_texts_give_the_words_and_central_labels_of_the_comments_one_by_one():
    from vocnlp.phrases import Phrase
    from vocnlp.stages.topic_labels import scored_phrases

    # distinct texts, each said by several comments (first-appearance order): counting each text for its comments
    # must give what the comments one by one give, exactly (the pipeline's themes stage runs per distinct text)
    rng = np.random.RandomState(3)
    vocab = ["アプリ", "通知", "配送", "店員", "箱", "価格", "在庫", "落ちる", "遅い"]
    ph = [Phrase("アプリが落ちる", ("アプリ",), "落ちる"), Phrase("配送が遅い", ("配送",), "遅い"),
          Phrase("在庫の価格", ("在庫", "価格"), "")]
    n_texts = 60
    text_tokens = [list(rng.choice(vocab, size=rng.randint(1, 5))) for _ in range(n_texts)]
    text_phrases = [[ph[i] for i in range(3) if rng.rand() < 0.4] for _ in range(n_texts)]
    topic_of = rng.randint(-1, 6, size=n_texts)
    text_of = np.concatenate([np.arange(n_texts), rng.randint(0, n_texts, size=400)])  # every text, then repeats
    counts = np.bincount(text_of, minlength=n_texts)
    rows_tokens, rows_phrases = [text_tokens[i] for i in text_of], [text_phrases[i] for i in text_of]
    parent, nouns = {0: 0, 1: 0, 2: 0, 3: 1, 4: 1, 5: 2}, frozenset(vocab[:7])
    per_row = T.theme_words(rows_tokens, topic_of[text_of], parent, 5)
    per_text = T.theme_words(text_tokens, topic_of, parent, 5, counts)
    assert per_row == per_text and list(per_row) == list(per_text)
    keywords = {0: ["アプリ", "配送"], 1: ["在庫", "価格"], 2: ["配送"]}
    assert T.theme_central(rows_tokens, rows_phrases, topic_of[text_of], parent, per_row, nouns) == \
        T.theme_central(text_tokens, text_phrases, topic_of, parent, per_text, nouns, counts)
    th = np.array([parent.get(int(t), -1) for t in topic_of])
    assert scored_phrases(th[text_of], rows_phrases, rows_tokens, keywords, min_support=1) == \
        scored_phrases(th, text_phrases, text_tokens, keywords, min_support=1, counts=counts)
