"""Weekly retraining from staff corrections, with an evaluation gate.

Training set: the shipped corpus plus every reviewed message in the store (the reviewed labels
win; duplicates and near-duplicates removed; a message deleted for privacy takes its reviews
with it). The most recent reviewed messages (by time of receipt; a fifth of those reviewed since
the last run) are held out: the candidate never trains on them. Candidate and service model are
scored on that slice and on the fixed regression set shipped in `training/regression/`, each
reported, and the gate reads both together (a 40-message slice alone moves by 0.025 per
message): the candidate is promoted only if the `existenzbedrohend` recall does not drop and area
macro-F1, first-topic accuracy and routing accuracy drop by no more than the tolerance. Otherwise
it stays in the registry as rejected, with the reason.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import func, select

from triage.classify.engine import Engine, Message
from triage.classify.features import Analyzer
from triage.classify.model import TriageModel
from triage.errors import ModelError
from triage.registry import Registry
from triage.store.db import migrate, session_scope
from triage.store.tables import Message as Stored
from triage.store.tables import Review
from triage.taxonomy import Taxonomy
from triage.text.normalize import fold

from .corpus import DEFAULT_CORPUS, Example, read_examples
from .evaluate import evaluate
from .train import save_model

__all__ = ["retrain", "RetrainRun", "reviewed_examples", "dedupe", "gate", "REGRESSION", "HEADLINE"]

REGRESSION = Path(__file__).parent / "regression"
MIN_HOLDOUT = 5
MAX_HOLDOUT = 2000  # enough to measure a change; the rest is worth more as training data
REVIEW_PREFIX = "review-"
REVIEW_WEIGHT = 3.0  # a reviewed message counts this many written ones (see training/README.md)
GATE_SET = "alle Bewertungsdaten"
HEADLINE = ("exist_recall", "area_macro_f1", "first_topic_accuracy", "routing_accuracy")


@dataclass
class Reviewed:
    example: Example
    received_at: datetime
    review_id: int


@dataclass
class RetrainRun:
    status: str  # "befördert" | "abgelehnt" | "keine neuen Prüfungen" | "probelauf"
    reason: str
    service_version: str
    candidate_version: str | None = None
    metrics: dict = field(default_factory=dict)  # eval set → {"candidate": {...}, "service": {...}}
    counts: dict = field(default_factory=dict)
    details: dict = field(default_factory=dict)  # full evaluations, disagreements, label doubts


def reviewed_examples(db_url: str, taxonomy: Taxonomy) -> list[Reviewed]:
    """Every message with a review, labelled as its latest review says, oldest first."""
    out = []
    with session_scope(db_url) as session:
        latest = (select(Review.message_id, func.max(Review.id).label("review_id"))
                  .group_by(Review.message_id).subquery())
        rows = session.execute(select(Stored, latest.c.review_id).join(latest, latest.c.message_id == Stored.id)
                               .order_by(Stored.received_at, Stored.id))
        for message, review_id in rows:
            labels = {"concerns": list(message.concerns), "art": message.art, "urgency": message.urgency,
                      "absender": message.absender, "routing": message.unit, "language": message.language or "de"}
            if not all(taxonomy.has(c) for c in labels["concerns"]):
                continue  # a topic retired since the review
            out.append(Reviewed(Example(f"{REVIEW_PREFIX}{message.id}", message.text, message.subject or "",
                                        message.channel or "", labels), message.received_at, review_id))
    return out


def _is_review(example: Example) -> bool:
    return example.id.startswith(REVIEW_PREFIX)


def _key(text: str) -> str:
    """Near-duplicate key: case, umlaut spelling, digits, punctuation and spacing ignored."""
    return " ".join(re.findall(r"[a-z]+", fold(text)))[:2000]


def dedupe(corpus: list[Example], reviewed: list[Example]) -> list[Example]:
    """Corpus plus reviewed examples, one per near-duplicate key; a reviewed label wins."""
    chosen: dict[str, Example] = {}
    for example in corpus:
        chosen.setdefault(_key(example.text), example)
    for example in reviewed:
        chosen[_key(example.text)] = example  # later (reviewed) wins
    return list(chosen.values())


def _headline(metrics: dict, taxonomy: Taxonomy) -> dict:
    return {"exist_recall": metrics["urgency"][taxonomy.crisis_urgency]["recall"]
            if metrics["urgency"][taxonomy.crisis_urgency]["support"] else None,
            "area_macro_f1": metrics["area_macro_f1"], "first_topic_accuracy": metrics["first_topic_accuracy"],
            "routing_accuracy": metrics["accuracy"]["routing"], "n": metrics["n"]}


def gate(candidate: dict, service: dict, tolerance: float) -> list[str]:
    """Reasons to reject the candidate on one evaluation set (empty: it passes)."""
    reasons = []
    if candidate["exist_recall"] is not None and service["exist_recall"] is not None:
        if candidate["exist_recall"] < service["exist_recall"]:
            reasons.append(f"Recall existenzbedrohend sinkt ({service['exist_recall']:.3f} → "
                           f"{candidate['exist_recall']:.3f})")
    for name in HEADLINE[1:]:
        if candidate[name] < service[name] - tolerance:
            reasons.append(f"{name} sinkt um mehr als {tolerance:.3f} ({service[name]:.3f} → {candidate[name]:.3f})")
    return reasons


def _classify(engine: Engine, examples: list[Example]) -> list:
    return list(engine.classify_many(Message(e.text, e.subject, e.channel, e.id) for e in examples))


def _disagreements(examples, candidate_results, service_results, limit: int = 20) -> list[dict]:
    rows = []
    for example, c, s in zip(examples, candidate_results, service_results):
        first_c, first_s = c.labels["concerns"][0], s.labels["concerns"][0]
        gap = abs(c.scores["concerns"].get(first_c, 0) - s.scores["concerns"].get(first_c, 0))
        if first_c != first_s or c.labels["urgency"] != s.labels["urgency"]:
            rows.append({"id": example.id, "text": example.text[:300], "gold": example.labels["concerns"][0],
                         "candidate": f"{first_c} / {c.labels['urgency']}",
                         "service": f"{first_s} / {s.labels['urgency']}", "gap": round(gap, 3)})
    return sorted(rows, key=lambda r: -r["gap"])[:limit]


def _label_doubts(model: TriageModel, examples: list[Example], limit: int = 30) -> list[dict]:
    """Reviewed messages whose first topic the cross-validated model strongly contradicts."""
    classes = model.classes_["concerns"]
    doubts = []
    for i, example in enumerate(examples):
        if not _is_review(example):
            continue
        probs = model.oof_["concerns"][i]
        gold = example.labels["concerns"][0]
        p_gold = probs[classes.index(gold)] if gold in classes else 0.0
        best = int(probs.argmax())
        if p_gold < 0.1 and probs[best] > 0.7:
            doubts.append({"id": example.id, "text": example.text[:300], "reviewed": gold,
                           "model": classes[best], "p_model": round(float(probs[best]), 3),
                           "p_reviewed": round(float(p_gold), 3)})
    return sorted(doubts, key=lambda d: d["p_reviewed"])[:limit]


def retrain(db_url: str, registry: Registry, taxonomy: Taxonomy, *, corpus: str | Path = DEFAULT_CORPUS,
            regression: str | Path | None = REGRESSION, holdout_share: float = 0.2, tolerance: float = 0.02,
            dry_run: bool = False, force: bool = False, analyzer: Analyzer | None = None,
            review_weight: float = REVIEW_WEIGHT, **params) -> RetrainRun:
    migrate(db_url)
    service_version = registry.active()
    if service_version is None:
        raise ModelError("M002", path=registry.root)
    reviewed = reviewed_examples(db_url, taxonomy)
    last_review = max((r.review_id for r in reviewed), default=0)
    previous = max((v.manifest.get("reviews_until", 0) for v in registry.versions()), default=0)
    if not force and last_review <= previous:
        return RetrainRun("keine neuen Prüfungen", f"keine Prüfung nach Nr. {previous}", service_version)
    # the held-out slice: the newest share of the reviews that came since the last run, so last
    # run's slice is trained on now, and a new kind of mail is learnt within a round or two
    new = sum(r.review_id > previous for r in reviewed) or len(reviewed)
    held = min(max(round(holdout_share * new), min(len(reviewed), MIN_HOLDOUT)), MAX_HOLDOUT)
    cut = max(0, len(reviewed) - held)
    train_reviewed, holdout = reviewed[:cut], [r.example for r in reviewed[cut:]]
    training = dedupe(list(read_examples(corpus, taxonomy)), [r.example for r in train_reviewed])
    analyzer = analyzer or Analyzer()
    analyses = list(analyzer.analyse_many((e.text, e.subject, e.channel) for e in training))
    weights = [review_weight if _is_review(e) else 1.0 for e in training]
    model = TriageModel(**params).fit(analyses, [e.labels for e in training], taxonomy, sample_weight=weights)
    service = Engine.from_registry(registry, service_version, taxonomy)
    candidate = Engine(model, "kandidat", taxonomy, analyzer)
    eval_sets = {"zuletzt geprüft (zurückgehalten)": holdout}
    if regression and Path(regression).exists():
        eval_sets["Regressionsset"] = list(read_examples(regression, taxonomy))
    eval_sets = {name: examples for name, examples in eval_sets.items() if examples}
    scored = {name: (_classify(candidate, examples), _classify(service, examples))
              for name, examples in eval_sets.items()}
    if len(eval_sets) > 1:  # the gate reads the union: more messages, less noise than each slice alone
        eval_sets[GATE_SET] = [e for examples in list(eval_sets.values()) for e in examples]
        scored[GATE_SET] = tuple([r for pair in list(scored.values()) for r in pair[i]] for i in (0, 1))
    metrics, details, reasons = {}, {"evaluations": {}, "disagreements": {}}, []
    for name, examples in eval_sets.items():
        c_results, s_results = scored[name]
        gold = [e.labels for e in examples]
        c_metrics, s_metrics = evaluate(c_results, gold, taxonomy), evaluate(s_results, gold, taxonomy)
        metrics[name] = {"candidate": _headline(c_metrics, taxonomy), "service": _headline(s_metrics, taxonomy)}
        details["evaluations"][name] = {"candidate": c_metrics, "service": s_metrics}
        details["disagreements"][name] = _disagreements(examples, c_results, s_results)
        if name == GATE_SET or len(eval_sets) == 1:
            reasons += [f"{name}: {r}" for r in gate(metrics[name]["candidate"], metrics[name]["service"], tolerance)]
    details["label_doubts"] = _label_doubts(model, training)
    details["label_shift"] = _label_shift(reviewed, previous, taxonomy)
    counts = {"corpus_and_reviews": len(training), "reviewed": len(reviewed), "held_out": len(holdout),
              "reviews_until": last_review, "review_weight": review_weight}
    if dry_run:
        verdict = "würde abgelehnt" if reasons else "würde befördert"
        return RetrainRun("probelauf", f"{verdict}: " + ("; ".join(reasons) or "alle Schwellen gehalten"),
                          service_version, None, metrics, counts, details)
    version = save_model(model, training, taxonomy, registry, reviews_until=last_review, review_weight=review_weight,
                         gate={"metrics": metrics, "reasons": reasons, "service_version": service_version})
    if reasons:
        registry.set_status(version, "abgelehnt", "; ".join(reasons))
        return RetrainRun("abgelehnt", "; ".join(reasons), service_version, version, metrics, counts, details)
    registry.activate(version, reason=f"retrain: besser oder gleich gut wie {service_version}")
    return RetrainRun("befördert", "alle Schwellen gehalten", service_version, version, metrics, counts, details)


def _label_shift(reviewed: list[Reviewed], previous: int, taxonomy: Taxonomy) -> dict:
    """Share of each area among the reviews before the last run and among those since."""
    from collections import Counter

    def shares(items: list[Reviewed]) -> Counter:
        counts = Counter(taxonomy.area_of(r.example.labels["concerns"][0]) for r in items)
        total = sum(counts.values()) or 1
        return Counter({area: round(n / total, 3) for area, n in counts.items()})

    before = shares([r for r in reviewed if r.review_id <= previous])
    since = shares([r for r in reviewed if r.review_id > previous])
    return {area: {"bisher": before.get(area, 0.0), "neu": since.get(area, 0.0)}
            for area in taxonomy.areas if before.get(area) or since.get(area)}
