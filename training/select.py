"""Model selection by cross-validation on the training corpus (never on the devset).

Compares feature settings and model families with the out-of-fold probabilities that `fit`
computes anyway, plus spaCy's own `textcat_multilabel` (bag-of-words) on the concerns, and
prints one table. Run: python -m training.select [--data DIR] [--folds 5]
"""
from __future__ import annotations

import argparse
import random
import time

import numpy as np
from sklearn.metrics import f1_score
from sklearn.model_selection import KFold

from triage.classify.features import Analyzer
from triage.classify.model import TriageModel
from triage.taxonomy import Taxonomy, default_taxonomy

from .corpus import DEFAULT_CORPUS, Example, read_examples
from .train import cv_metrics

CANDIDATES = {
    "svm  words+chars(2-5, 3000)": {"family": "svm", "char_ngrams": (2, 5), "char_limit": 3000},
    "svm  words+chars(2-5, 1500)": {"family": "svm", "char_ngrams": (2, 5), "char_limit": 1500},
    "svm  words+chars(3-5, 1500)": {"family": "svm", "char_ngrams": (3, 5), "char_limit": 1500},
    "svm  words+chars(3-5, 1000)": {"family": "svm", "char_ngrams": (3, 5), "char_limit": 1000},
    "svm  words+chars(3-4, 1500)": {"family": "svm", "char_ngrams": (3, 4), "char_limit": 1500},
    "svm  words+chars(3-4, 1000)": {"family": "svm", "char_ngrams": (3, 4), "char_limit": 1000},
    "svm  words>=2 docs+chars(3-4, 1000)": {"family": "svm", "char_ngrams": (3, 4), "char_limit": 1000,
                                            "word_min_df": 2},
    "lr   words+chars(2-5, 1500)": {"family": "lr", "char_ngrams": (2, 5), "char_limit": 1500},
}


def _oof_metrics(model: TriageModel, examples: list[Example], taxonomy: Taxonomy) -> dict:
    """The training run's cross-validated metrics, plus concerns micro-F1 and absender accuracy."""
    cv = cv_metrics(model, examples, taxonomy)
    codes = np.array(model.classes_["concerns"])
    probs = model.oof_["concerns"]
    first = codes[probs.argmax(axis=1)]
    thresholds = np.array([model.thresholds_["concerns"][c] for c in codes])
    predicted = [[first[i]] + [c for j, c in enumerate(codes) if c != first[i] and probs[i, j] >= thresholds[j]][:2]
                 for i in range(len(examples))]
    tp = sum(len(set(p) & set(e.labels["concerns"])) for p, e in zip(predicted, examples))
    n_pred = sum(len(p) for p in predicted)
    n_gold = sum(len(e.labels["concerns"]) for e in examples)
    p_third = model.oof_["absender"][:, model.classes_["absender"].index(taxonomy.third_party)]
    gold_third = np.array([e.labels["absender"] == taxonomy.third_party for e in examples])
    return {
        "first": cv["cv_first_topic_accuracy"],
        "area_f1": cv["cv_area_macro_f1"],
        "micro_f1": 2 * tp / (n_pred + n_gold),
        "exist_p": cv["cv_exist_precision"],
        "exist_r": cv["cv_exist_recall"],
        "absender": float(np.mean((p_third >= model.thresholds_["absender"]) == gold_third)),
    }


def spacy_textcat_first_topic(examples: list[Example], taxonomy: Taxonomy, folds: int, seed: int,
                              epochs: int = 12) -> dict:
    """First-topic accuracy and area macro-F1 of spaCy's textcat_multilabel (BOW), k-fold."""
    import spacy
    from spacy.training import Example as SpacyExample

    codes = taxonomy.codes
    first_pred, gold = [""] * len(examples), [e.labels["concerns"][0] for e in examples]
    for train_idx, test_idx in KFold(folds, shuffle=True, random_state=seed).split(examples):
        nlp = spacy.blank("de")
        textcat = nlp.add_pipe("textcat_multilabel", config={"model": {
            "@architectures": "spacy.TextCatBOW.v3", "exclusive_classes": False, "ngram_size": 2,
            "no_output_layer": False}})
        for code in codes:
            textcat.add_label(code)
        train = [SpacyExample.from_dict(nlp.make_doc(f"{examples[i].subject}\n{examples[i].text}"),
                                        {"cats": {c: float(c in examples[i].labels["concerns"]) for c in codes}})
                 for i in train_idx]
        optimizer = nlp.initialize(lambda train=train: train)
        rng = random.Random(seed)
        for _ in range(epochs):
            rng.shuffle(train)
            for start in range(0, len(train), 32):
                nlp.update(train[start:start + 32], sgd=optimizer, drop=0.2)
        docs = nlp.pipe(f"{examples[i].subject}\n{examples[i].text}" for i in test_idx)
        for i, doc in zip(test_idx, docs):
            first_pred[i] = max(doc.cats, key=doc.cats.get)
    return {
        "first": float(np.mean(np.array(first_pred) == np.array(gold))),
        "area_f1": float(f1_score([taxonomy.area_of(c) for c in gold], [taxonomy.area_of(c) for c in first_pred],
                                  average="macro")),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", default=str(DEFAULT_CORPUS))
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--skip-spacy", action="store_true")
    parser.add_argument("--only", default="", help="run only candidates whose name contains this")
    args = parser.parse_args()
    taxonomy = default_taxonomy()
    examples = list(read_examples(args.data, taxonomy))
    analyses = list(Analyzer().analyse_many((e.text, e.subject, e.channel) for e in examples))
    labels = [e.labels for e in examples]
    print(f"{len(examples)} examples, {args.folds}-fold cross-validation\n")
    print(f"{'candidate':<30}{'first':>7}{'areaF1':>8}{'microF1':>8}{'exist P':>8}{'exist R':>8}"
          f"{'absender':>9}{'fit s':>7}{'msg/s':>7}")
    for name, params in CANDIDATES.items():
        if args.only not in name:
            continue
        start = time.perf_counter()
        model = TriageModel(folds=args.folds, seed=args.seed, **params).fit(analyses, labels, taxonomy)
        fit_s = time.perf_counter() - start
        start = time.perf_counter()
        model.scores(analyses[:1000])
        speed = min(1000, len(analyses)) / (time.perf_counter() - start)
        m = _oof_metrics(model, examples, taxonomy)
        print(f"{name:<30}{m['first']:>7.3f}{m['area_f1']:>8.3f}{m['micro_f1']:>8.3f}{m['exist_p']:>8.3f}"
              f"{m['exist_r']:>8.3f}{m['absender']:>9.3f}{fit_s:>7.0f}{speed:>7.0f}")
    if not args.skip_spacy:
        start = time.perf_counter()
        m = spacy_textcat_first_topic(examples, taxonomy, args.folds, args.seed)
        print(f"{'spaCy textcat_multilabel BOW':<30}{m['first']:>7.3f}{m['area_f1']:>8.3f}{'-':>8}{'-':>8}{'-':>8}"
              f"{'-':>9}{time.perf_counter() - start:>7.0f}{'-':>7}")


if __name__ == "__main__":
    main()
