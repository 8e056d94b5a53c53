"""The model family: a shared vectoriser and one classifier pipeline per label head.

Word features are TF-IDF uni- and bigrams of lemma norms plus rule tokens; character
features are TF-IDF 2–5-grams of the folded text (robust to typos, compounds and missing
umlauts). Classifiers are linear and calibrated, so scores can be read as probabilities.
The vectoriser is fitted once and shared by all heads, so a message is featurised once.
"""
from __future__ import annotations

from functools import partial

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression, SGDClassifier
from sklearn.multiclass import OneVsRestClassifier
from sklearn.pipeline import Pipeline
from sklearn.svm import LinearSVC
from sklearn.utils.validation import check_is_fitted

__all__ = ["make_vectoriser", "make_classifier", "CalibratedLinear", "FAMILIES"]

FAMILIES = ("svm", "lr", "sgd")


def _split(text: str) -> list[str]:
    return text.split()


def _head(text: str, limit: int) -> str:
    return text[:limit]


def make_vectoriser(char_ngrams: tuple[int, int] = (2, 5), char_limit: int = 3000,
                    char_max_features: int = 150_000, word_min_df: int = 1) -> ColumnTransformer:
    """Word uni- and bigrams of norms (+ rule tokens), character n-grams of the folded text's
    first `char_limit` characters (the beginning says what a message is about; it keeps
    long letters from dominating the time spent)."""
    words = TfidfVectorizer(analyzer=_split, ngram_range=(1, 1), min_df=word_min_df, sublinear_tf=True,
                            lowercase=False)
    bigrams = TfidfVectorizer(tokenizer=_split, token_pattern=None, ngram_range=(2, 2), min_df=2,
                              sublinear_tf=True, lowercase=False)
    chars = TfidfVectorizer(analyzer="char_wb", ngram_range=tuple(char_ngrams), min_df=2, sublinear_tf=True,
                            max_features=char_max_features, dtype=np.float32, lowercase=False,
                            preprocessor=partial(_head, limit=char_limit))
    return ColumnTransformer(
        [("words", words, "words"), ("bigrams", bigrams, "words"), ("chars", chars, "chars")],
        sparse_threshold=1.0,
    )


class CalibratedLinear(ClassifierMixin, BaseEstimator):
    """A linear classifier with sigmoid-calibrated probabilities.

    `svm`: LinearSVC calibrated by 3-fold cross-validation; `lr`: logistic regression, which
    is calibrated by construction; `sgd`: logistic loss fitted by stochastic gradient descent,
    for tens of thousands of examples, where calibration folds would cost too much time. A
    class too rare for calibration folds (a newly added topic with two examples) falls back to
    logistic regression instead of failing.
    """

    def __init__(self, family: str = "svm", c: float = 0.5, seed: int = 13, cv: int = 3) -> None:
        self.family = family
        self.c = c
        self.seed = seed
        self.cv = cv

    def fit(self, x, y, sample_weight=None):
        if self.family not in FAMILIES:
            raise ValueError(f"unknown model family {self.family!r}; choose one of {FAMILIES}")
        _, counts = np.unique(y, return_counts=True)
        if self.family == "sgd":  # large data: logistic loss by stochastic gradient, no calibration folds
            self.model_ = SGDClassifier(loss="log_loss", alpha=self.c * 2e-5, class_weight="balanced",
                                        max_iter=30, tol=1e-4, random_state=self.seed)
        elif self.family == "svm" and counts.min() >= self.cv:
            svm = LinearSVC(C=self.c, class_weight="balanced", random_state=self.seed)
            if sample_weight is not None:
                svm.set_fit_request(sample_weight=True)
            self.model_ = CalibratedClassifierCV(svm, method="sigmoid", cv=self.cv, ensemble=False)
        else:
            self.model_ = LogisticRegression(C=self.c * 20, class_weight="balanced", max_iter=3000,
                                             random_state=self.seed)
        self.model_.fit(x, y, sample_weight=sample_weight)
        self.classes_ = self.model_.classes_
        return self

    def predict_proba(self, x):
        check_is_fitted(self, "model_")
        return self.model_.predict_proba(x)

    def predict(self, x):
        return self.classes_[self.predict_proba(x).argmax(axis=1)]

    def coefficients(self) -> np.ndarray:
        """Linear weights (classes × features), averaged over calibration folds: for explanations."""
        check_is_fitted(self, "model_")
        if isinstance(self.model_, CalibratedClassifierCV):
            return np.mean([c.estimator.coef_ for c in self.model_.calibrated_classifiers_], axis=0)
        return self.model_.coef_


def make_classifier(family: str = "svm", multilabel: bool = False, seed: int = 13, c: float = 0.5,
                    cv: int = 3, weighted: bool = False) -> Pipeline:
    """One head: a calibrated linear classifier (one-vs-rest for the multi-label concerns).

    `weighted`: fit takes `sample_weight` (routed by scikit-learn's metadata routing, which the
    caller enables while fitting)."""
    clf = CalibratedLinear(family, c, seed, cv)
    if weighted:
        clf.set_fit_request(sample_weight=True)
    return Pipeline([("clf", OneVsRestClassifier(clf) if multilabel else clf)])
