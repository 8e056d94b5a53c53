"""Scoring predictions against labelled messages: the headline metrics of the engine issue,
per-class precision and recall, confusion matrices, and precision at each coverage level
(so an office can choose how much to automate)."""
from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np
from sklearn.metrics import f1_score, precision_recall_fscore_support
from sklearn.preprocessing import MultiLabelBinarizer

from triage.classify.engine import Result
from triage.taxonomy import Taxonomy

__all__ = ["evaluate", "format_report", "COVERAGE"]

COVERAGE = (0.5, 0.6, 0.7, 0.8, 0.9, 1.0)
FIELDS = ("first_topic", "area", "art", "urgency", "absender", "routing", "language")


def _confidence(result: Result, field: str, taxonomy: Taxonomy) -> float:
    labels, scores = result.labels, result.scores
    first = labels["concerns"][0]
    if field == "first_topic":
        return scores["concerns"].get(first, 0.0)
    if field == "area":
        area = taxonomy.area_of(first)
        return sum(p for c, p in scores["concerns"].items() if taxonomy.area_of(c) == area)
    if field in ("art", "urgency", "absender"):
        return scores[field].get(labels[field], 0.0)
    if field == "routing":
        if labels["routing"] == taxonomy.crisis_unit:
            return max(scores["urgency"].get(taxonomy.crisis_urgency, 0.0),
                       scores["absender"].get(taxonomy.third_party, 0.0), scores["mediation"])
        return _confidence(result, "area", taxonomy)
    return 1.0


def _value(labels: dict, field: str, taxonomy: Taxonomy) -> str:
    if field == "first_topic":
        return labels["concerns"][0]
    if field == "area":
        return taxonomy.area_of(labels["concerns"][0])
    return labels[field]


def _coverage(pairs: list[tuple[float, bool]]) -> dict[str, float | None]:
    ordered = sorted(pairs, key=lambda p: -p[0])
    out: dict[str, float | None] = {}
    for level in COVERAGE:
        kept = ordered[: max(1, round(level * len(ordered)))] if ordered else []
        out[f"{int(level * 100)}%"] = round(sum(ok for _, ok in kept) / len(kept), 4) if kept else None
    return out


def _set_f1(gold: list[list[str]], pred: list[list[str]]) -> float:
    tp = sum(len(set(g) & set(p)) for g, p in zip(gold, pred))
    fp = sum(len(set(p) - set(g)) for g, p in zip(gold, pred))
    fn = sum(len(set(g) - set(p)) for g, p in zip(gold, pred))
    return 2 * tp / (2 * tp + fp + fn) if tp else 0.0


def _confusion(gold: list[str], pred: list[str]) -> dict[str, dict[str, int]]:
    counts = Counter(zip(gold, pred))
    classes = sorted(set(gold) | set(pred))
    return {g: {p: counts.get((g, p), 0) for p in classes} for g in classes}


def _per_class(gold, pred, classes: list[str]) -> dict[str, dict]:
    """Precision, recall, F1 and support of each of `classes`, for single labels."""
    return _table(classes, precision_recall_fscore_support(gold, pred, labels=classes, zero_division=0))


def _concerns_per_class(gold: list[list[str]], pred: list[list[str]], taxonomy: Taxonomy) -> dict[str, dict]:
    """Per topic over all concerns of a message (not just the first), for the topics that occur."""
    seen = {c for labels in gold + pred for c in labels}
    codes = [c for c in taxonomy.codes if c in seen] + sorted(seen - set(taxonomy.codes))
    binarizer = MultiLabelBinarizer(classes=codes)
    scores = precision_recall_fscore_support(binarizer.fit_transform(gold), binarizer.transform(pred),
                                             zero_division=0)
    return _table(codes, scores)


def _table(classes: list[str], scores) -> dict[str, dict]:
    p, r, f, support = scores
    return {c: {"precision": round(float(p[i]), 4), "recall": round(float(r[i]), 4), "f1": round(float(f[i]), 4),
                "support": int(support[i])} for i, c in enumerate(classes)}


def evaluate(results: Sequence[Result], gold_labels: Sequence[dict], taxonomy: Taxonomy) -> dict:
    """All metrics for predictions `results` against `gold_labels` (same order)."""
    values = {f: ([_value(g, f, taxonomy) for g in gold_labels], [_value(r.labels, f, taxonomy) for r in results])
              for f in FIELDS}
    accuracy = {f: round(float(np.mean([a == b for a, b in zip(*values[f])])), 4) for f in FIELDS}
    gold_area, pred_area = values["area"]
    urgency_classes = list(taxonomy.values("urgency"))
    coverage = {}
    for field in FIELDS:
        gold, pred = values[field]
        pairs_by_class: dict[str, list[tuple[float, bool]]] = {}
        for result, g, pr in zip(results, gold, pred):
            pairs_by_class.setdefault(pr, []).append((_confidence(result, field, taxonomy), g == pr))
        coverage[field] = {"_alle": _coverage([x for v in pairs_by_class.values() for x in v]),
                           **{c: _coverage(v) for c, v in sorted(pairs_by_class.items())}}
    return {
        "n": len(results),
        "area_macro_f1": round(float(f1_score(gold_area, pred_area, labels=sorted(set(gold_area)),
                                              average="macro", zero_division=0)), 4),
        "first_topic_accuracy": accuracy["first_topic"],
        "concerns_micro_f1": round(_set_f1([g["concerns"] for g in gold_labels],
                                           [r.labels["concerns"] for r in results]), 4),
        "urgency": _per_class(values["urgency"][0], values["urgency"][1], urgency_classes),
        "per_class": {
            "area": _per_class(gold_area, pred_area, sorted(set(gold_area) | set(pred_area))),
            "concerns": _concerns_per_class([g["concerns"] for g in gold_labels],
                                            [r.labels["concerns"] for r in results], taxonomy),
            "routing": _per_class(*values["routing"], sorted(set(values["routing"][0]) | set(values["routing"][1]))),
        },
        "accuracy": accuracy,
        "needs_review_share": round(float(np.mean([r.needs_review for r in results])), 4),
        "confusion": {"area": _confusion(gold_area, pred_area),
                      "urgency": _confusion(*values["urgency"]),
                      "routing": _confusion(*values["routing"])},
        "coverage_precision": coverage,
    }


def format_report(m: dict) -> str:
    """A plain-text report of `evaluate`'s output."""
    lines = [f"Nachrichten: {m['n']}",
             f"area macro-F1          {m['area_macro_f1']:.3f}",
             f"first-topic accuracy   {m['first_topic_accuracy']:.3f}",
             f"concerns micro-F1      {m['concerns_micro_f1']:.3f}"]
    for field in ("routing", "absender", "language", "art", "urgency"):
        lines.append(f"{field + ' accuracy':<23}{m['accuracy'][field]:.3f}")
    lines.append(f"needs_review share     {m['needs_review_share']:.3f}")
    lines.append("\nurgency            precision  recall  f1     support")
    for c, v in m["urgency"].items():
        lines.append(f"  {c:<18}{v['precision']:.3f}      {v['recall']:.3f}   {v['f1']:.3f}  {v['support']}")
    for field, per_class in m.get("per_class", {}).items():
        lines.append(f"\n{field:<38}precision  recall  f1     support")
        for c, v in per_class.items():
            lines.append(f"  {c:<36}{v['precision']:.3f}      {v['recall']:.3f}   {v['f1']:.3f}  {v['support']}")
    for name, matrix in m["confusion"].items():
        classes = list(matrix)
        width = max(len(c) for c in classes) + 1
        lines.append(f"\nconfusion {name} (rows gold, columns predicted)")
        lines.append(" " * width + " ".join(f"{c[:6]:>6}" for c in classes))
        for g in classes:
            lines.append(f"{g:<{width}}" + " ".join(f"{matrix[g][p]:>6}" for p in classes))
    lines.append("\nprecision at coverage (most confident share of each predicted label kept)")
    header = "  ".join(f"{c:>5}" for c in next(iter(m["coverage_precision"].values()))["_alle"])
    for field, per_class in m["coverage_precision"].items():
        lines.append(f"\n{field:<38}{header}")
        for cls, row in per_class.items():
            cells = "  ".join("    -" if v is None else f"{v:5.2f}" for v in row.values())
            lines.append(f"  {cls:<36}{cells}")
    return "\n".join(lines)
