"""The triage engine: one message in, labels with scores, evidence and routing out.

`Engine` holds the German pipeline, a verified model from the registry and the category tree.
It does no I/O of its own beyond loading the model, so the CLI, the web service and the mail
tagger all call the same `classify` / `classify_many`.
"""
from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice

from ..errors import InputError, ModelError
from ..registry import Registry
from ..taxonomy import Taxonomy, default_taxonomy
from ..text.language import DEFAULT_LANGUAGES, detect_language
from .decide import Decision, decide
from .features import Analysis, Analyzer
from .model import Scores, TriageModel

__all__ = ["Engine", "Message", "Result"]

MAX_CHARS = 100_000  # longer bodies are cut for classification (the store keeps all of it)


@dataclass(frozen=True)
class Message:
    text: str
    subject: str = ""
    channel: str = ""
    id: str | None = None


@dataclass
class Result:
    """A suggestion for one message, in the shape of a line of `triage classify --output`."""

    labels: dict
    scores: dict
    evidence: dict
    needs_review: bool
    review_reasons: list[str]
    routing_reason: str
    model_version: str
    id: str | None = None
    text: str = field(default="", repr=False)

    def as_dict(self) -> dict:
        out = {"id": self.id} if self.id is not None else {}
        out.update(labels=self.labels, scores=self.scores, evidence=self.evidence,
                   needs_review=self.needs_review, review_reasons=self.review_reasons,
                   routing_reason=self.routing_reason, model_version=self.model_version)
        return out


class Engine:
    def __init__(self, model: TriageModel, version: str, taxonomy: Taxonomy, analyzer: Analyzer | None = None,
                 languages: tuple[str, ...] = DEFAULT_LANGUAGES) -> None:
        self.model = model
        self.version = version
        self.taxonomy = taxonomy
        self.analyzer = analyzer or Analyzer()
        self.languages = languages
        self.overrides = self.analyzer.rules["urgency"].overrides

    def warm_up(self) -> Engine:
        """Build lazily created parts (language models, prediction matrices) before the first
        real message, so a service's first requests are as fast as the rest."""
        self.classify("Guten Tag, mein Antrag liegt seit Wochen unbearbeitet bei Ihnen. " * 5)
        self.classify("Добрий день, я не отримала гроші за цей місяць. " * 6)
        self.classify("Hallo, wo bleibt mein Geld?")
        return self

    @classmethod
    def from_registry(cls, registry: Registry | None = None, version: str | None = None,
                      taxonomy: Taxonomy | None = None) -> Engine:
        """Load a verified model version (the active one by default)."""
        from ..config import get_settings

        settings = get_settings()
        registry = registry or Registry(settings.models_dir, settings.registry_key_path)
        version = version or registry.active()
        if version is None:
            raise ModelError("M002", path=registry.root)
        estimators, files, _manifest = registry.load(version)
        meta = json.loads(files["model.json"])
        taxonomy = taxonomy or default_taxonomy()
        return cls(TriageModel.from_parts(estimators, meta, taxonomy), version, taxonomy)

    def classify(self, text: str, subject: str = "", channel: str = "") -> Result:
        return next(self.classify_many([Message(text, subject, channel)]))

    def classify_many(self, messages: Iterable[Message], batch_size: int = 256) -> Iterator[Result]:
        """Classify lazily in batches. An empty message raises InputError before any work."""
        iterator = iter(messages)
        while batch := list(islice(iterator, batch_size)):
            for message in batch:
                if not (message.text or "").strip():
                    raise InputError("I001")
            analyses = list(self.analyzer.analyse_many(
                ((m.text[:MAX_CHARS], m.subject or "", m.channel or "") for m in batch), batch_size=batch_size))
            for message, analysis, scores in zip(batch, analyses, self.model.scores(analyses)):
                yield self._result(message, analysis, self._in_tree(scores))

    def _in_tree(self, scores: Scores) -> Scores:
        """Drop topics the configured tree no longer has (a deployment may retire topics)."""
        kept = {c: p for c, p in scores.concerns.items() if self.taxonomy.has(c)}
        return Scores(kept or scores.concerns, scores.art, scores.urgency, scores.absender, scores.mediation)

    def _result(self, message: Message, analysis: Analysis, scores: Scores) -> Result:
        decision: Decision = decide(scores, analysis, self.model.thresholds_, self.taxonomy, self.overrides,
                                    self.model.rule_override)
        language = detect_language(analysis.text, self.languages)
        reasons = list(decision.review_reasons)
        if language != "de":
            reasons.append("Sprache nicht Deutsch")
        top = sorted(scores.concerns.items(), key=lambda kv: -kv[1])[: self.taxonomy.max_concerns + 2]
        return Result(
            id=message.id,
            labels={"concerns": decision.concerns, "art": decision.art, "urgency": decision.urgency,
                    "absender": decision.absender, "routing": decision.routing, "language": language},
            scores={"concerns": {c: round(p, 4) for c, p in top},
                    "art": _rounded(scores.art), "urgency": _rounded(scores.urgency),
                    "absender": _rounded(scores.absender), "mediation": round(scores.mediation, 4)},
            evidence=decision.evidence,
            needs_review=bool(reasons),
            review_reasons=reasons,
            routing_reason=decision.routing_reason,
            model_version=self.version,
            text=analysis.text,
        )


def _rounded(probs: dict[str, float]) -> dict[str, float]:
    return {k: round(v, 4) for k, v in probs.items()}

