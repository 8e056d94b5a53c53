"""Fast prediction from the fitted scikit-learn heads.

The artefacts stay scikit-learn pipelines (one per head); for prediction they are read into
plain matrices once: every head is linear, so its scores are one sparse-dense product and a
sigmoid (calibrated or not) per class. One message then costs microseconds instead of the
milliseconds that 33 one-vs-rest estimators with their per-call checks cost, which keeps the
web service fast on single messages. `tests/classify/test_compiled.py` checks that the
probabilities equal scikit-learn's own.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.special import expit, softmax
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import SGDClassifier
from sklearn.multiclass import OneVsRestClassifier
from sklearn.pipeline import Pipeline

from .heads import CalibratedLinear

__all__ = ["CompiledHead", "compile_head", "FastVectoriser"]


@dataclass
class CompiledHead:
    weights: np.ndarray  # features × outputs
    bias: np.ndarray  # outputs
    slope: np.ndarray  # p = expit(-(slope * score + offset)) per output
    offset: np.ndarray
    mode: str  # "multilabel" | "binary" | "normalise" | "softmax"

    def predict_proba(self, x) -> np.ndarray:
        scores = np.asarray(x @ self.weights) + self.bias
        if self.mode == "softmax":
            return softmax(scores, axis=1)
        p = expit(-(self.slope * scores + self.offset))
        if self.mode == "multilabel":
            return p
        if self.mode == "binary":
            return np.column_stack([1.0 - p[:, 0], p[:, 0]])
        total = p.sum(axis=1, keepdims=True)
        return np.divide(p, total, out=np.full_like(p, 1.0 / p.shape[1]), where=total != 0)


def _linear(model) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, bool]:
    """(coef outputs×features, intercept, slope, offset, calibrated) of a fitted CalibratedLinear."""
    inner = model.model_
    if isinstance(inner, CalibratedClassifierCV):
        calibrated = inner.calibrated_classifiers_[0]
        estimator = calibrated.estimator
        slope = np.array([c.a_ for c in calibrated.calibrators], dtype=float)
        offset = np.array([c.b_ for c in calibrated.calibrators], dtype=float)
        return estimator.coef_, estimator.intercept_, slope, offset, True
    outputs = inner.coef_.shape[0]
    # logistic regression: p = expit(score) (softmax when multinomial); SGD with log loss: one
    # expit per class, normalised over classes as scikit-learn does
    return inner.coef_, inner.intercept_, -np.ones(outputs), np.zeros(outputs), isinstance(inner, SGDClassifier)


def _binary_column(estimator, n_features: int) -> tuple[np.ndarray, float, float, float]:
    if isinstance(estimator, CalibratedLinear):
        coef, intercept, slope, offset, _ = _linear(estimator)
        return coef[0], float(intercept[0]), float(slope[0]), float(offset[0])
    # scikit-learn's constant predictor for a label that never varied in training
    p = float(np.clip(estimator.predict_proba(sp.csr_matrix((1, n_features)))[0, 1], 1e-9, 1 - 1e-9))
    return np.zeros(n_features), 0.0, 0.0, float(-np.log(p / (1 - p)))


def compile_head(pipeline: Pipeline, n_features: int) -> CompiledHead:
    clf = pipeline.named_steps["clf"]
    if isinstance(clf, OneVsRestClassifier):
        columns = [_binary_column(e, n_features) for e in clf.estimators_]
        return CompiledHead(np.column_stack([c[0] for c in columns]), np.array([c[1] for c in columns]),
                            np.array([c[2] for c in columns]), np.array([c[3] for c in columns]), "multilabel")
    coef, intercept, slope, offset, calibrated = _linear(clf)
    if len(clf.classes_) == 2:
        mode = "binary"
    else:
        mode = "normalise" if calibrated else "softmax"
    return CompiledHead(np.ascontiguousarray(coef.T), np.asarray(intercept, dtype=float), slope, offset, mode)


class FastVectoriser:
    """The fitted TF-IDF vectorisers applied without scikit-learn's per-call checks: each
    part's analyser, vocabulary and idf weights, then sublinear tf, idf and l2 norm as in
    `TfidfVectorizer.transform`; the parts stacked in the ColumnTransformer's order."""

    def __init__(self, transformer: ColumnTransformer) -> None:
        self.parts = []
        for name, vectoriser, column in transformer.transformers_:
            if name == "remainder" or vectoriser == "drop":
                continue
            self.parts.append((vectoriser, column, vectoriser.build_analyzer(), vectoriser.vocabulary_,
                               vectoriser.idf_.astype(np.float64), bool(vectoriser.sublinear_tf)))

    def _part(self, docs: list[str], analyse, vocabulary: dict, idf: np.ndarray, sublinear: bool):
        indptr, indices, values = [0], [], []
        for doc in docs:
            counts: dict[int, int] = {}
            for feature in analyse(doc):
                j = vocabulary.get(feature)
                if j is not None:
                    counts[j] = counts.get(j, 0) + 1
            columns = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))
            tf = np.fromiter(counts.values(), dtype=np.float64, count=len(counts))
            if sublinear:
                tf = np.log(tf) + 1.0
            weights = tf * idf[columns]
            norm = np.sqrt(np.dot(weights, weights))
            if norm > 0:
                weights /= norm
            order = np.argsort(columns)
            indices.append(columns[order])
            values.append(weights[order])
            indptr.append(indptr[-1] + len(columns))
        return sp.csr_matrix((np.concatenate(values) if values else np.zeros(0),
                              np.concatenate(indices) if indices else np.zeros(0, dtype=np.int64), indptr),
                             shape=(len(docs), len(idf)))

    def transform(self, columns: dict[str, list[str]]):
        return sp.hstack([self._part(columns[column], analyse, vocabulary, idf, sublinear)
                          for _, column, analyse, vocabulary, idf, sublinear in self.parts], format="csr")
