"""The report of a retraining run: an HTML page with PNG charts (matplotlib) beside it.

Shows candidate vs. service model on each evaluation set, per-class precision and recall (urgency,
area, routing, every topic; classes the candidate does clearly worse on in red), the
confusion matrix of areas, the label mix of the reviewed messages, the messages where the two
models disagree most, and reviewed labels the cross-validated model strongly doubts (for a
second look by staff).
"""
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from jinja2 import Environment, FileSystemLoader, select_autoescape  # noqa: E402

from .retrain import HEADLINE, RetrainRun  # noqa: E402

__all__ = ["write_report", "per_class_rows"]

TEMPLATES = Path(__file__).parent / "templates"


def _fmt(value) -> str:
    return "–" if value is None else f"{value:.3f}" if isinstance(value, float) else str(value)


def _bars(path: Path, pair: dict) -> None:
    names = [k for k in HEADLINE if pair["candidate"][k] is not None]
    fig, ax = plt.subplots(figsize=(7, 3))
    x = range(len(names))
    ax.bar([i - 0.2 for i in x], [pair["service"][k] for k in names], width=0.4, label="im Dienst")
    ax.bar([i + 0.2 for i in x], [pair["candidate"][k] for k in names], width=0.4, label="Kandidat")
    ax.set_xticks(list(x), names, fontsize=8)
    ax.set_ylim(0, 1)
    ax.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def _confusion(path: Path, matrix: dict) -> None:
    classes = list(matrix)
    fig, ax = plt.subplots(figsize=(6, 5))
    ax.imshow([[matrix[g][p] for p in classes] for g in classes], cmap="Blues")
    ax.set_xticks(range(len(classes)), [c[:10] for c in classes], rotation=60, fontsize=7)
    ax.set_yticks(range(len(classes)), [c[:14] for c in classes], fontsize=7)
    ax.set_xlabel("vorhergesagt")
    ax.set_ylabel("geprüft")
    for i, g in enumerate(classes):
        for j, p in enumerate(classes):
            if matrix[g][p]:
                ax.text(j, i, matrix[g][p], ha="center", va="center", fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


PER_CLASS = (("Dringlichkeit", "urgency"), ("Bereich", "area"), ("Weiterleitung", "routing"),
             ("Thema (alle Anliegen)", "concerns"))
CHANGE = 0.1  # an F1 difference worth a colour
_NONE = {"precision": None, "recall": None, "f1": 0.0, "support": 0}  # a class one model never met


def per_class_rows(evaluation: dict) -> list[tuple[str, list[dict]]]:
    """Per-class precision and recall of service and candidate side by side, for each field:
    rows marked "no" where the candidate's F1 is more than CHANGE below the service model's."""
    out = []
    for title, field in PER_CLASS:
        service, candidate = ({**m["per_class"], "urgency": m["urgency"]}[field]
                              for m in (evaluation["service"], evaluation["candidate"]))
        rows = []
        for cls in list(candidate) + [c for c in service if c not in candidate]:
            s, c = service.get(cls, _NONE), candidate.get(cls, _NONE)
            change = "no" if c["f1"] < s["f1"] - CHANGE else "ok" if c["f1"] > s["f1"] + CHANGE else ""
            rows.append({"cls": cls, "service": s, "candidate": c, "change": change,
                         "support": max(s["support"], c["support"])})
        out.append((title, rows))
    return out


def write_report(run: RetrainRun, folder: str | Path) -> Path:
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    stem = f"nachtraining-{run.candidate_version or 'probelauf'}"
    images, confusion = {}, {}
    for i, (name, pair) in enumerate(run.metrics.items()):
        images[name] = f"{stem}-kennzahlen-{i}.png"
        confusion[name] = f"{stem}-bereiche-{i}.png"
        _bars(folder / images[name], pair)
        _confusion(folder / confusion[name], run.details["evaluations"][name]["candidate"]["confusion"]["area"])
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(default=True))
    template = env.get_template("retrain_report.html")
    html = template.render(run=run, headline=HEADLINE, images=images, confusion=confusion, fmt=_fmt,
                           per_class_rows=per_class_rows)
    path = folder / f"{stem}.html"
    path.write_text(html, encoding="utf-8")
    return path
