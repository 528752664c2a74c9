"""Routing: which unit handles a case, and which category a description most likely belongs to.

Rules (category × region → department) make most dispatches one click, or none when a rule says
"dispatch automatically on acceptance". The category suggester is a multinomial naive Bayes over
character uni- and bigrams, trained in-process on past cases (plus each category's name and
keywords, so a fresh install suggests something); no network, no downloaded model.
"""

from __future__ import annotations

import math
import re
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Max

from gridgov.accounts.models import Department

from .models import Case, CaseCategory, RoutingRule, State


@dataclass(frozen=True)
class RouteSuggestion:
    department: Department
    assist_departments: tuple[Department, ...]
    auto_dispatch: bool
    rule_id: int


def _codes(path: str) -> list[str]:
    return [c for c in path.strip("/").split("/") if c]


def _active_rules() -> list[RoutingRule]:
    return list(
        RoutingRule.objects.filter(is_active=True, department__is_active=True)
        .select_related("department__region", "region", "category")
        .prefetch_related("assist_departments__region")
        .order_by("pk")
    )


def route_for(*, category: CaseCategory, region_path: str) -> RouteSuggestion | None:
    """The most specific active rule for the category and place whose department serves the place.
    The active rules (with departments, regions and co-handlers) are cached per process while the
    configuration and region version tokens stand (config.py)."""
    from .config import snapshot

    codes = set(_codes(region_path))
    cat_ids = {category.pk, category.parent_id} - {None}
    every: list[RoutingRule] = snapshot().cached("cases", _active_rules, slot="routing", also=("regions",))
    rules = [
        r
        for r in every
        if (r.category_id is None or r.category_id in cat_ids) and (r.region is None or r.region.code in codes)
    ]

    def rank(rule: RoutingRule) -> tuple[int, int, int]:
        cat_rank = 0 if rule.category_id is None else (2 if rule.category_id == category.pk else 1)
        region_rank = rule.region.depth + 1 if rule.region else 0
        return (cat_rank, region_rank, rule.priority)

    for rule in sorted(rules, key=rank, reverse=True):
        if not region_path.startswith(rule.department.region.path):
            continue
        assists = tuple(
            d
            for d in rule.assist_departments.all()
            if d.is_active and d.pk != rule.department_id and region_path.startswith(d.region.path)
        )
        return RouteSuggestion(rule.department, assists, rule.auto_dispatch, rule.pk)
    return None


# --- category suggester -------------------------------------------------------------------------

_KEEP = re.compile(r"[\u4e00-\u9fff]+|[a-z0-9]+")


def features(text: str) -> list[str]:
    tokens: list[str] = []
    for run in _KEEP.findall(text.lower()):
        if run.isascii():
            tokens.append(run)
            continue
        tokens.extend(run)
        tokens.extend(run[i : i + 2] for i in range(len(run) - 1))
    return tokens


class NaiveBayes:
    """Multinomial naive Bayes with Laplace smoothing."""

    def __init__(self, alpha: float = 0.5) -> None:
        self.alpha = alpha
        self.doc_counts: Counter[int] = Counter()
        self.token_counts: dict[int, Counter[str]] = defaultdict(Counter)
        self.token_totals: Counter[int] = Counter()
        self.vocab: set[str] = set()

    def fit(self, docs: Iterable[tuple[str, int]]) -> NaiveBayes:
        for text, label in docs:
            toks = features(text)
            if not toks:
                continue
            self.doc_counts[label] += 1
            self.token_counts[label].update(toks)
            self.token_totals[label] += len(toks)
            self.vocab.update(toks)
        return self

    def predict(self, text: str, k: int = 3) -> list[tuple[int, float]]:
        toks = [t for t in features(text) if t in self.vocab]
        if not toks or not self.doc_counts:
            return []
        n_docs = sum(self.doc_counts.values())
        v = len(self.vocab)
        scores: dict[int, float] = {}
        for label, n in self.doc_counts.items():
            counts, total = self.token_counts[label], self.token_totals[label]
            denom = math.log(total + self.alpha * v)
            s = math.log(n / n_docs)
            for t in toks:
                s += math.log(counts.get(t, 0) + self.alpha) - denom
            scores[label] = s
        top = max(scores.values())
        exp = {label: math.exp(s - top) for label, s in scores.items()}
        z = sum(exp.values())
        ranked = sorted(((label, e / z) for label, e in exp.items()), key=lambda p: p[1], reverse=True)
        return ranked[:k]


TRAINING_LIMIT = 20000
RETRAIN_SECONDS = 600

_lock = threading.Lock()
_model: tuple[tuple[int, int], float, NaiveBayes] | None = None


def _training_docs() -> list[tuple[str, int]]:
    docs: list[tuple[str, int]] = []
    leaves = CaseCategory.objects.filter(is_active=True, children__isnull=True).select_related("parent")
    for cat in leaves:
        seed = " ".join(filter(None, [cat.name, cat.keywords.replace(",", " ").replace("，", " ")]))
        docs.extend([(seed, cat.pk)] * 2)
    rows = (
        Case.objects.exclude(state__in=[State.REJECTED, State.MERGED])
        .filter(category__is_active=True, category__children__isnull=True)
        .order_by("-id")
        .values_list("description", "category_id")[:TRAINING_LIMIT]
    )
    docs.extend((text, cat_id) for text, cat_id in rows)
    return docs


def classifier() -> NaiveBayes:
    """The process's model, retrained when cases or categories changed and it is older than
    RETRAIN_SECONDS (training on 20k descriptions takes well under a second)."""
    global _model
    stamp = (Case.objects.aggregate(m=Max("id"))["m"] or 0, CaseCategory.objects.count())
    cached = _model
    if cached is not None and (cached[0] == stamp or time.monotonic() - cached[1] < RETRAIN_SECONDS):
        return cached[2]
    with _lock:
        cached = _model
        if cached is not None and (cached[0] == stamp or time.monotonic() - cached[1] < RETRAIN_SECONDS):
            return cached[2]
        model = NaiveBayes().fit(_training_docs())
        _model = (stamp, time.monotonic(), model)
        return model


def reset_classifier() -> None:
    global _model
    with _lock:
        _model = None


@dataclass(frozen=True)
class CategorySuggestion:
    category: CaseCategory
    probability: float


def suggest_category(text: str, k: int = 3) -> list[CategorySuggestion]:
    ranked = classifier().predict(text, k=k)
    cats = CaseCategory.objects.select_related("parent").in_bulk([label for label, _ in ranked])
    return [CategorySuggestion(cats[label], round(p, 4)) for label, p in ranked if label in cats]
