"""A training run: corpus in, a new signed version in the model registry out."""
from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from sklearn.metrics import f1_score

from triage.classify.features import Analyzer
from triage.classify.model import TriageModel
from triage.registry import Registry, code_version
from triage.taxonomy import Taxonomy

from .corpus import DEFAULT_CORPUS, Example, data_hash, read_examples

__all__ = ["train", "fit_model", "save_model", "cv_metrics"]


def fit_model(examples: list[Example], taxonomy: Taxonomy, analyzer: Analyzer | None = None,
              **params) -> TriageModel:
    analyzer = analyzer or Analyzer()
    analyses = list(analyzer.analyse_many((e.text, e.subject, e.channel) for e in examples))
    return TriageModel(**params).fit(analyses, [e.labels for e in examples], taxonomy)


def cv_metrics(model: TriageModel, examples: list[Example], taxonomy: Taxonomy) -> dict:
    """Cross-validated estimates from the out-of-fold probabilities kept by `fit`."""
    concerns = np.array(model.classes_["concerns"])
    first = concerns[model.oof_["concerns"].argmax(axis=1)]
    gold_first = [e.labels["concerns"][0] for e in examples]
    gold_area = [taxonomy.area_of(c) for c in gold_first]
    urgency = np.array(model.classes_["urgency"])[model.oof_["urgency"].argmax(axis=1)]
    crisis = taxonomy.crisis_urgency
    exist_p = model.oof_["urgency"][:, model.classes_["urgency"].index(crisis)]
    gold_exist = np.array([e.labels["urgency"] == crisis for e in examples])
    pred_exist = exist_p >= model.thresholds_["urgency"][crisis]
    return {
        "cv_first_topic_accuracy": round(float(np.mean(first == np.array(gold_first))), 4),
        "cv_area_macro_f1": round(float(f1_score(gold_area, [taxonomy.area_of(c) for c in first],
                                                 average="macro")), 4),
        "cv_urgency_accuracy": round(float(np.mean(urgency == np.array([e.labels["urgency"] for e in examples]))), 4),
        "cv_exist_recall": round(float((pred_exist & gold_exist).sum() / max(1, gold_exist.sum())), 4),
        "cv_exist_precision": round(float((pred_exist & gold_exist).sum() / max(1, pred_exist.sum())), 4),
    }


def train(taxonomy: Taxonomy, registry: Registry, data: str | Path = DEFAULT_CORPUS, version: str | None = None,
          activate: bool = True, **params) -> str:
    """Train on `data`, store the model as a new registry version, activate it; return the version."""
    examples = list(read_examples(data, taxonomy))
    model = fit_model(examples, taxonomy, **params)
    version = save_model(model, examples, taxonomy, registry, version)
    if activate:
        registry.activate(version, reason="train")
    return version


def save_model(model: TriageModel, examples: list[Example], taxonomy: Taxonomy, registry: Registry,
               version: str | None = None, **extra) -> str:
    """Store a fitted model as a new signed registry version (not activated); return the version."""
    fingerprint = data_hash(examples)
    estimators, meta = model.parts()
    created = datetime.now(UTC)
    version = version or f"{created:%Y%m%d-%H%M%S}-{fingerprint[:8]}"
    manifest = {
        "created": created.isoformat(timespec="seconds"),
        "training_data_sha256": fingerprint,
        "training_examples": len(examples),
        "code_version": code_version(),
        "taxonomy_version": taxonomy.version,
        "params": meta["params"],
        "metrics": cv_metrics(model, examples, taxonomy),
        **extra,
    }
    files = {"model.json": json.dumps(meta, indent=1, sort_keys=True, ensure_ascii=False),
             "taxonomy.toml": Path(taxonomy.source).read_text(encoding="utf-8")}
    registry.save(version, estimators, files, manifest)
    return version
