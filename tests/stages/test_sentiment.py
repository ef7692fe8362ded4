"""The sentiment stage: item and segment scores from the dictionary, and a trained model overriding the item label."""

import numpy as np
import pandas as pd

from vocnlp import schema as S
from vocnlp.config import SentimentConfig, resolve_resource
from vocnlp.stages import sentiment

LEXICON = resolve_resource("builtin:sentiment_lexicon.tsv")


def frame():
    segments = [["値段は安いけど", "品質が悪い"], ["店員さんがとても親切でした"], [], ["普通です"]]
    return pd.DataFrame({S.ID: ["a", "b", "c", "d"], S.ROW: [0, 1, 2, 3], S.SEGMENTS: segments,
                         S.STATUS: ["ok", "ok", "empty", "ok"],
                         S.TEXT_NORM: ["値段は安いけど品質が悪い", "店員さんがとても親切でした", "", "普通です"]})


def test_dictionary_sentiment_per_item_and_segment():
    out, segs = sentiment.run(frame(), SentimentConfig(method="lexicon"), LEXICON)
    assert out[S.SENTIMENT_LABEL].tolist() == ["negative", "positive", "", "neutral"]
    scores = out[S.SENTIMENT_SCORE]
    assert scores[0] < -0.15 and scores[1] > 0.15 and np.isnan(scores[2]) and abs(scores[3]) < 0.15
    assert "悪い" in out[S.SENTIMENT_EVIDENCE][0]  # the phrase that made it negative
    assert segs[[S.ID, S.SEGMENT_NO]].values.tolist() == [["a", 1], ["a", 2], ["b", 1], ["d", 1]]
    assert segs[S.SENTIMENT_LABEL].tolist()[:2] == ["positive", "negative"]  # each clause keeps its own polarity
    assert segs["row"].tolist() == [1, 1, 2, 4]


class AlwaysPositive:
    """A stand-in trained model: the TextClassifier interface, confident 'positive' for everything."""

    classes_ = ["negative", "neutral", "positive"]
    multi_label_ = False

    def predict_proba(self, texts, X):
        return np.tile([0.05, 0.15, 0.8], (len(X), 1))

    def predict_from_proba(self, P):
        return [self.classes_[i] for i in P.argmax(axis=1)]

    def predict(self, texts, X):
        return self.predict_from_proba(self.predict_proba(texts, X))


def test_a_trained_model_overrides_the_item_label_but_segments_stay_dictionary():
    X = np.zeros((3, 8), np.float32)  # the analysed rows a, b, d
    out, segs = sentiment.run(frame(), SentimentConfig(method="trained"), LEXICON, AlwaysPositive(), X)
    assert out[S.SENTIMENT_LABEL].tolist() == ["positive", "positive", "", "positive"]
    assert out[S.SENTIMENT_SCORE][0] == 0.75  # P(positive) - P(negative)
    assert "悪い" not in out[S.SENTIMENT_EVIDENCE][0]  # only phrases that agree with the model's label are shown
    assert segs[S.SENTIMENT_LABEL].tolist()[:2] == ["positive", "negative"]


class ByWords:
    """A stand-in trained model that reads the text: 悪い -> negative, 親切 -> positive, else neutral."""

    classes_ = ["negative", "neutral", "positive"]
    multi_label_ = False

    def predict_proba(self, texts, X):
        assert len(texts) == len(X)
        return np.array([[0.8, 0.1, 0.1] if "悪い" in t else [0.1, 0.1, 0.8] if "親切" in t else [0.2, 0.6, 0.2]
                         for t in texts])

    def predict_from_proba(self, P):
        return [self.classes_[i] for i in P.argmax(axis=1)]


def test_per_segment_inference_labels_segments_and_lets_a_clear_segment_decide_the_item():
    df = frame()
    df[S.TEXT_NORM] = ["値段は安いけど品質がね", "店員さんがとても親切でした", "", "普通です"]  # a: neutral as a whole
    embedded = []

    def seg_embed(texts):
        embedded.extend(texts)
        return np.zeros((len(texts), 8), np.float32)

    X = np.zeros((3, 8), np.float32)
    cfg = SentimentConfig(method="trained", per_segment_below=0.9)  # ByWords is at most 0.8 sure
    out, segs = sentiment.run(df, cfg, LEXICON, ByWords(), X, seg_embed)
    assert embedded == ["値段は安いけど", "品質が悪い"]  # only comments with two or more segments are embedded again
    # item a: neutral for the item-level model, negative from its one polar segment
    assert out[S.SENTIMENT_LABEL].tolist() == ["negative", "positive", "", "neutral"]
    assert out[S.SENTIMENT_SCORE][0] == -0.7
    assert segs[S.SENTIMENT_LABEL].tolist() == ["neutral", "negative", "positive", "neutral"]  # the model's labels
    assert "_pos" not in segs.columns


def test_aggregate_keeps_the_item_prediction_when_segments_disagree():
    classes = ["negative", "neutral", "positive"]
    item = np.array([0.2, 0.6, 0.2])
    mixed = np.array([[0.1, 0.1, 0.8], [0.7, 0.2, 0.1]])
    p, lab = sentiment.aggregate(item, "neutral", mixed, ["positive", "negative"], classes)
    assert lab == "neutral" and p is item
    agree = np.array([[0.1, 0.5, 0.4], [0.05, 0.05, 0.9], [0.2, 0.7, 0.1]])
    p, lab = sentiment.aggregate(item, "neutral", agree, ["neutral", "positive", "neutral"], classes)
    assert lab == "positive" and p[2] == 0.9
    p, lab = sentiment.aggregate(item, "neutral", agree[[0, 2]], ["neutral", "neutral"], classes)
    assert lab == "neutral" and p is item


def test_comments_the_item_model_is_sure_of_are_not_embedded_again():
    embedded = []

    def seg_embed(texts):
        embedded.extend(texts)
        return np.zeros((len(texts), 8), np.float32)

    X = np.zeros((3, 8), np.float32)
    cfg = SentimentConfig(method="trained", per_segment_below=0.75)  # AlwaysPositive is 0.8 sure of everything
    out, segs = sentiment.run(frame(), cfg, LEXICON, AlwaysPositive(), X, seg_embed)
    assert embedded == []
    assert out[S.SENTIMENT_LABEL].tolist() == ["positive", "positive", "", "positive"]
    assert segs[S.SENTIMENT_LABEL].tolist()[:2] == ["positive", "negative"]  # the dictionary's, as without the model


def test_with_units_the_model_labels_a_long_comments_units_and_each_segment_takes_its_units_label():
    df = pd.DataFrame({S.ID: ["a"], S.ROW: [0], S.STATUS: ["ok"],
                       S.SEGMENTS: [["値段は安いけど", "品質が", "悪い", "以上です"]],
                       S.TEXT_NORM: ["値段は安いけど品質が悪い以上です"]})
    embedded = []

    def seg_embed(texts):
        embedded.extend(texts)
        return np.zeros((len(texts), 8), np.float32)

    cfg = SentimentConfig(method="trained", per_segment_below=0.9)
    out, segs = sentiment.run(df, cfg, LEXICON, ByWords(), np.zeros((1, 8), np.float32), seg_embed,
                              {0: [[0], [1, 2, 3]]})
    assert embedded == ["値段は安いけど", "品質が悪い以上です"]  # the units, not the four segments
    assert segs[S.SENTIMENT_LABEL].tolist() == ["neutral", "negative", "negative", "negative"]
    assert out[S.SENTIMENT_LABEL].tolist() == ["negative"]
