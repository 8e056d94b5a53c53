"""The trained triage model: shared vectoriser, one head per label field, tuned thresholds.

Follows scikit-learn's conventions: `__init__` stores parameters, `fit` checks and learns
(learned state ends in `_`) and returns self, prediction refuses an unfitted model. Input is a
sequence of `Analysis` objects (see features.py); output are `Scores` per message, which
`decide` turns into labels. Routing is not learned: routing.py applies the spec's rules.
"""
from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sklearn import config_context
from sklearn.model_selection import KFold, StratifiedKFold, cross_val_predict
from sklearn.preprocessing import MultiLabelBinarizer

from ..errors import DataError, ModelError
from ..taxonomy import Taxonomy
from .compiled import CompiledHead, FastVectoriser, compile_head
from .features import Analysis, frame
from .heads import make_classifier, make_vectoriser
from .thresholds import best_f1_threshold, best_fbeta_threshold, secondary_thresholds

__all__ = ["TriageModel", "Scores", "HEADS", "mediation_label"]

HEADS = ("concerns", "art", "urgency", "absender", "mediation")


@dataclass
class Scores:
    """Probabilities of one message, per head: class → probability."""

    concerns: dict[str, float]
    art: dict[str, float]
    urgency: dict[str, float]
    absender: dict[str, float]
    mediation: float


def mediation_label(labels: dict, taxonomy: Taxonomy) -> str:
    """Derived training target: routed to the crisis unit for a reason other than sender or
    urgency, i.e. the writer asked for mediation or a new contact person."""
    asked = (labels["routing"] == taxonomy.crisis_unit and labels["absender"] != taxonomy.third_party
             and labels["urgency"] != taxonomy.crisis_urgency)
    return "ja" if asked else "nein"


class TriageModel:
    def __init__(self, family: str = "svm", c: float = 0.5, seed: int = 13, folds: int = 5,
                 exist_beta: float = 2.0, rule_override: bool = False, char_ngrams: tuple[int, int] = (3, 4),
                 char_limit: int = 1000, large: int = 6000, word_min_df: int = 2) -> None:
        self.family = family
        self.c = c
        self.seed = seed
        self.folds = folds
        self.exist_beta = exist_beta
        self.rule_override = rule_override
        self.char_ngrams = tuple(char_ngrams)
        self.char_limit = char_limit
        self.large = large
        self.word_min_df = word_min_df

    # -- learning ---------------------------------------------------------------------------
    def fit(self, analyses: Sequence[Analysis], labels: Sequence[dict], taxonomy: Taxonomy,
            sample_weight: Sequence[float] | None = None) -> TriageModel:
        """`sample_weight`: how much each example counts relative to the others (e.g. more for
        staff-reviewed messages than for the written corpus). Scaled to a mean of 1, so the
        regularisation stays as tuned; thresholds are tuned unweighted."""
        if len(analyses) != len(labels) or len(analyses) < 2 * self.folds:
            raise DataError("D002", where="Training", reason=f"zu wenige Beispiele ({len(analyses)})")
        if sample_weight is not None and len(sample_weight) != len(labels):
            raise DataError("D002", where="Training", reason="Gewichte und Beispiele ungleich viele")
        weights = None
        if sample_weight is not None:
            weights = np.asarray(sample_weight, dtype=float)
            weights = weights / weights.mean()  # a new array: the caller's stays as it was
        self.taxonomy_ = taxonomy
        self.vectoriser_ = make_vectoriser(self.char_ngrams, self.char_limit, word_min_df=self.word_min_df)
        x = self.vectoriser_.fit_transform(frame(analyses))  # one pass over the texts, not two
        targets = self._targets(labels, taxonomy)
        self.heads_, self.classes_, self.oof_ = {}, {}, {}
        with warnings.catch_warnings():
            # rare labels are expected in cross-validation folds of a small corpus
            for pattern in (r"Label not \d+ is present", ".*least populated", "Number of classes in training"):
                warnings.filterwarnings("ignore", message=pattern)
            with config_context(enable_metadata_routing=weights is not None):
                self._fit_heads(x, targets, weights)
        self.thresholds_ = self._tune(targets)
        self._fast = None
        return self

    def _fit_heads(self, x, targets: dict[str, np.ndarray], weights: np.ndarray | None) -> None:
        # Large training sets (tens of thousands of reviewed messages) need fewer folds for a
        # stable threshold estimate, and calibrated SVMs would take far too long there: 2 folds
        # and logistic loss by SGD (probabilistic without calibration folds) for those.
        large = x.shape[0] >= self.large
        folds = 2 if large else self.folds
        family = "sgd" if large and self.family == "svm" else self.family
        for head, y in targets.items():
            multilabel = head == "concerns"
            clf = make_classifier(family, multilabel=multilabel, seed=self.seed, c=self.c,
                                  weighted=weights is not None)
            fit_params = {} if weights is None else {"sample_weight": weights}
            if multilabel:
                cv = KFold(folds, shuffle=True, random_state=self.seed)
            else:
                cv = StratifiedKFold(min(folds, _smallest_class(y)), shuffle=True, random_state=self.seed)
            self.oof_[head] = cross_val_predict(clf, x, y, cv=cv, method="predict_proba", params=fit_params)
            self.heads_[head] = clf.fit(x, y, **fit_params)
            self.classes_[head] = list(self._binarizer.classes_) if multilabel else list(clf.classes_)

    def _targets(self, labels: Sequence[dict], taxonomy: Taxonomy) -> dict[str, np.ndarray]:
        codes = [c for c in taxonomy.codes if any(c in lab["concerns"] for lab in labels)]
        self._binarizer = MultiLabelBinarizer(classes=codes)
        return {
            "concerns": self._binarizer.fit_transform([lab["concerns"] for lab in labels]),
            "art": np.array([lab["art"] for lab in labels]),
            "urgency": np.array([lab["urgency"] for lab in labels]),
            "absender": np.array([lab["absender"] for lab in labels]),
            "mediation": np.array([mediation_label(lab, taxonomy) for lab in labels]),
        }

    def _tune(self, targets: dict[str, np.ndarray]) -> dict:
        tax = self.taxonomy_
        urgency_classes = self.classes_["urgency"]
        u = self.oof_["urgency"]
        exist = urgency_classes.index(tax.crisis_urgency)
        others = [c for c in urgency_classes if c != tax.crisis_urgency]
        return {
            "concerns": dict(zip(self.classes_["concerns"],
                                 secondary_thresholds(self.oof_["concerns"], targets["concerns"],
                                                      limit=tax.max_concerns - 1).tolist())),
            "urgency": {
                tax.crisis_urgency: best_fbeta_threshold(u[:, exist], targets["urgency"] == tax.crisis_urgency,
                                                         self.exist_beta),
                **{c: best_f1_threshold(u[:, urgency_classes.index(c)], targets["urgency"] == c) for c in others},
            },
            "absender": best_f1_threshold(self._column("absender", tax.third_party),
                                          targets["absender"] == tax.third_party),
            "mediation": best_f1_threshold(self._column("mediation", "ja"), targets["mediation"] == "ja"),
        }

    def _column(self, head: str, cls: str) -> np.ndarray:
        return self.oof_[head][:, self.classes_[head].index(cls)]

    # -- prediction -------------------------------------------------------------------------
    def scores(self, analyses: Sequence[Analysis]) -> list[Scores]:
        if not hasattr(self, "heads_"):
            raise ModelError("M001")
        vectoriser, heads = self._compiled()
        x = vectoriser.transform({"words": [a.words for a in analyses], "chars": [a.chars for a in analyses]})
        probs = {head: compiled.predict_proba(x) for head, compiled in heads.items()}
        out = []
        for i in range(len(analyses)):
            row = {head: dict(zip(self.classes_[head], map(float, probs[head][i]))) for head in HEADS}
            out.append(Scores(row["concerns"], row["art"], row["urgency"], row["absender"], row["mediation"]["ja"]))
        return out

    def _compiled(self) -> tuple[FastVectoriser, dict[str, CompiledHead]]:
        """Prediction matrices read from the fitted pipelines (once per loaded model)."""
        if getattr(self, "_fast", None) is None:
            fast = FastVectoriser(self.vectoriser_)
            n_features = sum(len(part[0].vocabulary_) for part in fast.parts)
            self._fast = (fast, {h: compile_head(clf, n_features) for h, clf in self.heads_.items()})
        return self._fast

    # -- persistence: estimators as separate artefacts, everything else as plain JSON -------
    def parts(self) -> tuple[dict[str, object], dict]:
        """(estimators by artefact name, JSON-safe description) for the registry."""
        if not hasattr(self, "heads_"):
            raise ModelError("M001")
        estimators = {"vectoriser": self.vectoriser_, **{f"head-{h}": clf for h, clf in self.heads_.items()}}
        meta = {"params": {"family": self.family, "c": self.c, "seed": self.seed, "folds": self.folds,
                           "exist_beta": self.exist_beta, "rule_override": self.rule_override,
                           "char_ngrams": list(self.char_ngrams), "char_limit": self.char_limit,
                           "large": self.large, "word_min_df": self.word_min_df},
                "classes": self.classes_, "thresholds": self.thresholds_}
        return estimators, meta

    @classmethod
    def from_parts(cls, estimators: dict[str, object], meta: dict, taxonomy: Taxonomy) -> TriageModel:
        model = cls(**meta["params"])
        model.taxonomy_ = taxonomy
        model.vectoriser_ = estimators["vectoriser"]
        model.heads_ = {h: estimators[f"head-{h}"] for h in HEADS}
        model.classes_ = meta["classes"]
        model.thresholds_ = meta["thresholds"]
        return model


def _smallest_class(y: np.ndarray) -> int:
    _, counts = np.unique(y, return_counts=True)
    return max(2, int(counts.min()))
