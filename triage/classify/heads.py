"""The model family: a shared vectoriser and one classifier pipeline per label head.

Word features are TF-IDF uni- and bigrams of lemma norms plus rule tokens; character
features are TF-IDF 2–5-grams of the folded text (robust to typos, compounds and missing
umlauts). Classifiers are linear and calibrated, so scores can be read as probabilities.
The vectoriser is fitted once and shared by all heads, so a message is featurised once.
"""
from __future__ import annotations

from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.multiclass import OneVsRestClassifier
from sklearn.pipeline import Pipeline
from sklearn.svm import LinearSVC

__all__ = ["make_vectoriser", "make_classifier", "FAMILIES"]

FAMILIES = ("svm", "lr")


def _split(text: str) -> list[str]:
    return text.split()


def make_vectoriser(char_max_features: int = 150_000) -> ColumnTransformer:
    words = TfidfVectorizer(analyzer=_split, ngram_range=(1, 1), min_df=1, sublinear_tf=True, lowercase=False)
    bigrams = TfidfVectorizer(tokenizer=_split, token_pattern=None, ngram_range=(2, 2), min_df=2,
                              sublinear_tf=True, lowercase=False)
    chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), min_df=2, sublinear_tf=True,
                            max_features=char_max_features, dtype="float32")
    return ColumnTransformer(
        [("words", words, "words"), ("bigrams", bigrams, "words"), ("chars", chars, "chars")],
        sparse_threshold=1.0,
    )


def _base(family: str, seed: int, c: float):
    if family == "svm":
        return CalibratedClassifierCV(LinearSVC(C=c, class_weight="balanced", random_state=seed),
                                      method="sigmoid", cv=3)
    if family == "lr":
        return LogisticRegression(C=c * 20, class_weight="balanced", max_iter=3000, random_state=seed)
    raise ValueError(f"unknown model family {family!r}; choose one of {FAMILIES}")


def make_classifier(family: str = "svm", multilabel: bool = False, seed: int = 13, c: float = 0.5) -> Pipeline:
    """One head: a calibrated linear classifier (one-vs-rest for the multi-label concerns)."""
    clf = _base(family, seed, c)
    return Pipeline([("clf", OneVsRestClassifier(clf) if multilabel else clf)])
