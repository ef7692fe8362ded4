"""Topic labels from key phrases: centrality, distinctiveness, the keyword fallback, stability, tracking."""

from pathlib import Path

import numpy as np
import pytest

import vocnlp
from vocnlp.config import TopicsConfig
from vocnlp.japanese import analyse, content_words, load_stopwords
from vocnlp.phrases import key_phrases
from vocnlp.stages.topic_labels import centrality_weights, phrase_labels

STOP = load_stopwords(str(Path(vocnlp.__file__).parent / "resources" / "stopwords_ja.txt"))
POS = ("名詞", "動詞", "形容詞", "形状詞")

DELIVERY = ["配送が遅い。三日も待った", "注文した棚の配送が遅い", "配送が遅いし連絡もない", "配送の日時指定ができない",
            "配送が遅くて困った。店員は親切", "配送業者の対応が雑", "配送が遅れて届かない"]
LOGIN = ["アプリにログインできない", "昨日からログインできなくなった", "パスワードを再設定してもログインできない",
         "アプリのログイン画面が固まる", "ログインできないのでポイントが使えない。店員は親切", "アプリが重い"]
MIXED = ["フライパンの塗装がはげた", "引き出しが傾く", "時計の音がうるさい", "枕が高すぎる"]


def prepare(texts):
    morphs = [analyse(t) for t in texts]
    return [key_phrases(m, STOP) for m in morphs], [content_words(m, POS, STOP, 1, True) for m in morphs]


def test_each_topic_gets_a_phrase_about_its_subject():
    phrases, tokens = prepare(DELIVERY + LOGIN)
    topics = np.array([0] * len(DELIVERY) + [1] * len(LOGIN))
    labels = phrase_labels(topics, phrases, tokens, {0: ["配送", "遅い"], 1: ["ログイン", "アプリ"]})
    assert "配送" in labels[0] and "遅" in labels[0], labels  # what most of the topic says about delivery
    assert "ログイン" in labels[1], labels
    assert all("親切" not in lab for lab in labels.values())  # a side remark in both topics names neither


def test_a_topic_without_a_shared_phrase_is_left_to_its_keywords():
    phrases, tokens = prepare(DELIVERY + MIXED)
    topics = np.array([0] * len(DELIVERY) + [1] * len(MIXED))
    labels = phrase_labels(topics, phrases, tokens, {0: ["配送"], 1: ["フライパン", "引き出し"]})
    assert 1 not in labels  # four comments about four things: no phrase speaks for them
    assert 0 in labels


def test_labels_are_unique_deterministic_and_skip_taken_ones():
    phrases, tokens = prepare(DELIVERY + DELIVERY)
    topics = np.array([0] * len(DELIVERY) + [1] * len(DELIVERY))
    kw = {0: ["配送"], 1: ["配送"]}
    labels = phrase_labels(topics, phrases, tokens, kw)
    assert len(set(labels.values())) == len(labels)  # two topics never share a name
    order = np.random.RandomState(0).permutation(len(topics))
    again = phrase_labels(topics[order], [phrases[i] for i in order], [tokens[i] for i in order], kw)
    assert again == labels
    fresh = phrase_labels(topics[:len(DELIVERY)], phrases[:len(DELIVERY)], tokens[:len(DELIVERY)], {0: ["配送"]},
                          taken=frozenset({labels[0]}))
    assert fresh.get(0) != labels[0]


def test_centrality_weights_favour_typical_comments():
    w = centrality_weights(np.array([0.9, 0.5, 0.7, 0.2, 0.2]), np.array([0, 0, 0, 1, 1]))
    assert w[0] > w[2] > w[1] and w.min() >= 0.25 and w.max() <= 2.0
    assert w[3] == w[4] == 1.0  # no spread: all equal


@pytest.fixture
def fitted(fake_embedder):
    from vocnlp.stages.topics import fit_topics

    texts = DELIVERY * 3 + LOGIN * 3
    phrases, tokens = prepare(texts)
    X = fake_embedder.embed(texts)
    cfg = TopicsConfig(max_topics=2, min_docs_for_clustering=10)
    keywords_only = cfg.model_copy(update={"label_phrases": False})
    return fit_topics(X, tokens, cfg, phrases=phrases), fit_topics(X, tokens, keywords_only, phrases=phrases)


def test_fit_topics_names_topics_with_phrases_and_keeps_keywords(fitted):
    with_phrases, keywords_only = fitted
    labels = with_phrases.table.set_index("topic_id").topic_label
    assert any("ログイン" in lab and "・" not in lab for lab in labels), labels.tolist()
    assert any("配送" in lab and "・" not in lab for lab in labels), labels.tolist()
    assert (with_phrases.table.keywords == keywords_only.table.keywords).all()  # keywords stay in their column
    assert all(lab.count("・") <= 1 for lab in keywords_only.table.topic_label)  # fallback: two keywords at most


def test_tracked_topics_keep_their_labels_and_new_ones_take_a_free_phrase():
    import pandas as pd

    from vocnlp.stages.tracking import track_topics

    rng = np.random.RandomState(0)
    d = 32
    base = np.eye(d, dtype=np.float32)
    registry = pd.DataFrame({"topic_id": [0, 1], "topic_label": ["配送が遅い", "ログインできない"], "keywords": ["", ""],
                             "first_period": ["p1"] * 2, "merged_into": [np.nan] * 2,
                             "centroid": [base[0], base[5]], "threshold": [0.5, 0.5]})
    known = DELIVERY * 5
    new = LOGIN * 6  # a login subject again, far from the known login topic in the embedding space
    X = np.vstack([base[0] + 0.05 * rng.randn(d) for _ in known] + [base[9] + 0.05 * rng.randn(d) for _ in new])
    phrases, tokens = prepare(known + new)
    cfg = TopicsConfig(assign_floor=0.8, merge_threshold=0.8, min_docs_for_clustering=10)
    res = track_topics(X.astype(np.float32), tokens, cfg, registry, next_id=2, reference_mean=np.zeros(d, np.float32),
                       phrases=phrases)
    labels = dict(zip(res.table.topic_id, res.table.topic_label))
    assert labels[0] == "配送が遅い"  # a known topic keeps the label it was born with
    new_ids = [t for t in labels if t >= 2]
    assert new_ids and all(labels[t] not in ("配送が遅い", "ログインできない") for t in new_ids), labels
    assert any("ログイン" in labels[t] or "アプリ" in labels[t] for t in new_ids), labels
    assert res.new_topics.topic_label.tolist() == [labels[t] for t in res.new_topics.topic_id]  # stored as named
