"""Screening: listings in, decisions with evidence out. No HTTP here."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np

from app.schemas import Listing
from app.screening.columns import (
    FLAG,
    ClusterColumns,
    OriginColumns,
    ScreenColumns,
    round6,
)
from app.screening.countries import DOMESTIC
from app.screening.drift import Vocabulary, load_profile
from app.screening.linear import Predictions
from app.screening.markers import title_markers
from app.screening.policy import LIKELY, Policy
from app.screening.store import LoadedModel

logger = logging.getLogger("akar_gate")


# A city field that says the place is abroad (Shopee shows "Luar Negeri" as the shop location
# of a cross-border seller).
_ABROAD = frozenset({"luar negeri", "overseas", "abroad"})
_ORIGIN_LABELS = np.array(["domestic", "import"])
_STRUCTURED, _MARKER = FLAG["STRUCTURED_ORIGIN_EVIDENCE"], FLAG["MARKETPLACE_MARKER"]
_BLOCK = FLAG["PROTECTED_CLUSTER_IMPORT"]


def _abroad(city: str | None) -> bool:
    return city is not None and " ".join(city.lower().split()) in _ABROAD


def structured_origin_evidence(listing: Listing) -> list[str]:
    """Structured fields that make a listing an import, as evidence strings."""
    evidence = []
    seller, ship_from = listing.seller, listing.ship_from
    if seller is not None and seller.cross_border:
        evidence.append("seller.cross_border=true")
    if ship_from is not None and ship_from.country not in (None, DOMESTIC):
        evidence.append(f"ship_from.country={ship_from.country}")
    if ship_from is not None and _abroad(ship_from.city):
        evidence.append(f"ship_from.city={ship_from.city}")
    if seller is not None and seller.country not in (None, DOMESTIC):
        evidence.append(f"seller.country={seller.country}")
    if seller is not None and _abroad(seller.city):
        evidence.append(f"seller.city={seller.city}")
    if listing.origin_country not in (None, DOMESTIC):
        evidence.append(f"origin_country={listing.origin_country}")
    return evidence


class Screener:
    """A loaded model and a policy; `screen` is vectorised over the listings it is given and
    answers columns (`ScreenColumns`)."""

    def __init__(
        self, loaded: LoadedModel, policy: Policy, challenger: Screener | None = None
    ) -> None:
        self.loaded = loaded
        self.policy = policy
        # A candidate model scoring the same listings beside this one (never the answer).
        self.challenger = challenger
        # For drift: what validation traffic looked like, and the words the model knows.
        self.reference_profile = load_profile(loaded.path)
        self.vocabulary = Vocabulary.of(loaded.model.predictor)
        labels = loaded.model.cluster_labels
        self._labels = tuple(labels)
        self._label_array = np.array(labels)
        self._protected = [
            j for j, label in enumerate(labels) if label in policy.protected_clusters
        ]

    @property
    def model_version(self) -> str:
        return self.loaded.version

    def _answer(
        self,
        listings: Sequence[Listing],
        decisions: np.ndarray,
        reasons: np.ndarray,
        cluster: ClusterColumns | None = None,
        origin: OriginColumns | None = None,
    ) -> ScreenColumns:
        """Shadow mode applied to the enforce-mode decisions: every listing allowed."""
        shadow = None
        if self.policy.mode == "shadow":
            shadow, decisions = decisions, np.full(len(decisions), "allow")
            reasons = reasons | FLAG["SHADOW_MODE"]
        return ScreenColumns(
            listing_ids=[listing.listing_id for listing in listings],
            decisions=decisions,
            shadow_decisions=shadow,
            reasons=reasons,
            cluster=cluster,
            origin=origin,
            model_version=self.loaded.version,
            policy_version=self.policy.version,
        )

    def screen(self, listings: Sequence[Listing]) -> ScreenColumns:
        n = len(listings)
        model = self.loaded.model
        try:
            preds = model.predict(listings)
        except Exception:
            # Fail safe, never open: an internal error sends the listings to people.
            logger.exception("model error on %d listing(s); answering review", n)
            return self._answer(
                listings, np.full(n, "review"), np.full(n, FLAG["MODEL_ERROR"], dtype=np.int64)
            )
        if n == 1:
            return self._screen_one(listings, preds)
        proba = preds.cluster_proba
        # Column by column: each listing's sum is taken in the order a loop over its row would.
        p_protected = sum((proba[:, j] for j in self._protected), start=np.zeros(n))
        # Per listing, because they read a listing's fields and its title's text (regexes):
        # the explicit origin claims, and their reason flags.
        structured = [structured_origin_evidence(listing) for listing in listings]
        markers = [title_markers(listing.title) for listing in listings]
        claims = np.fromiter(
            (
                (_STRUCTURED if s else 0) | (_MARKER if m else 0)
                for s, m in zip(structured, markers, strict=True)
            ),
            np.int64,
            count=n,
        )
        # An explicit claim decides, from a field or a marketplace's marker in the title: the
        # text model is not asked to overrule it.
        p_import = np.where(claims != 0, 1.0, preds.import_proba)
        is_import = p_import >= LIKELY
        verdicts = self.policy.decide_many(p_protected, p_import)
        # The claims are named among the reasons of a block (whose only reason is this one).
        reasons = np.where(verdicts.reasons == _BLOCK, verdicts.reasons | claims, verdicts.reasons)
        # Rounded as answered, in one call: a numpy call costs more than its work on one listing.
        k = len(self._labels)
        rounded = round6(np.column_stack((proba, np.maximum(p_import, 1 - p_import), p_import)))
        scores = rounded[:, :k]
        cluster = ClusterColumns(
            names=self._labels,
            labels=self._label_array[proba.argmax(axis=1)],  # the first of equal maxima
            confidence=scores.max(axis=1),
            scores=scores,
            evidence=preds.cluster_terms,
        )
        origin = OriginColumns(
            labels=_ORIGIN_LABELS[is_import * 1],
            confidence=rounded[:, k],
            import_probability=rounded[:, k + 1],
            # Strings per listing: the claims found, or the text model's terms for an import.
            evidence=[
                s + m if s or m else [f"title: '{t}'" for t in terms] if imp else []
                for s, m, terms, imp in zip(
                    structured, markers, preds.origin_terms, is_import.tolist(), strict=True
                )
            ],
        )
        return self._answer(listings, verdicts.decisions, reasons, cluster, origin)

    def _screen_one(self, listings: Sequence[Listing], preds: Predictions) -> ScreenColumns:
        """`screen`'s answer for one listing, on Python floats: the same columns, without
        the thirty-odd numpy calls on one-element arrays that cost more than their work
        (about 30 µs a listing; bench/README.md "Results as columns"). The equivalence tests
        screen every hand-checked listing one at a time and batched, against one reference."""
        [listing] = listings
        row: list[float] = preds.cluster_proba[0].tolist()
        p_protected = 0.0
        for j in self._protected:  # in the order of the batch's column sum
            p_protected += row[j]
        structured = structured_origin_evidence(listing)
        markers = title_markers(listing.title)
        claims = (_STRUCTURED if structured else 0) | (_MARKER if markers else 0)
        p_import = 1.0 if claims else float(preds.import_proba[0])
        is_import = int(p_import >= LIKELY)
        verdicts = self.policy.decide_one(p_protected, p_import)
        reasons = verdicts.reasons
        if claims and reasons[0] == _BLOCK:
            reasons = reasons | claims
        scores = [round(p, 6) for p in row]  # as round6, which rounds as Python does
        best = max(range(len(row)), key=row.__getitem__)  # the first of equal maxima
        cluster = ClusterColumns(
            names=self._labels,
            labels=self._label_array[best : best + 1],
            confidence=np.array([max(scores)]),
            scores=np.array([scores]),
            evidence=preds.cluster_terms,
        )
        origin = OriginColumns(
            labels=_ORIGIN_LABELS[is_import : is_import + 1],
            confidence=np.array([round(max(p_import, 1 - p_import), 6)]),
            import_probability=np.array([round(p_import, 6)]),
            evidence=[
                structured + markers
                if claims
                else [f"title: '{t}'" for t in preds.origin_terms[0]]
                if is_import
                else []
            ],
        )
        return self._answer(listings, verdicts.decisions, reasons, cluster, origin)
