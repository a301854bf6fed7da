"""Screening: listings in, decisions with evidence out. No HTTP here."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from app.schemas import ClusterResult, Listing, OriginResult, ScreenResult
from app.screening.countries import DOMESTIC
from app.screening.drift import Vocabulary, load_profile
from app.screening.markers import title_markers
from app.screening.policy import Policy
from app.screening.store import LoadedModel

logger = logging.getLogger("akar_gate")


# A city field that says the place is abroad (Shopee shows "Luar Negeri" as the shop location
# of a cross-border seller).
_ABROAD = frozenset({"luar negeri", "overseas", "abroad"})


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
    """A loaded model and a policy; `screen` is vectorised over the listings it is given."""

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
        self._protected_columns = [
            j for j, label in enumerate(labels) if label in policy.protected_clusters
        ]

    @property
    def model_version(self) -> str:
        return self.loaded.version

    def _model_error(self, listing: Listing) -> ScreenResult:
        decision, shadow, reasons = "review", None, ["MODEL_ERROR"]
        if self.policy.mode == "shadow":
            decision, shadow, reasons = "allow", "review", ["SHADOW_MODE", "MODEL_ERROR"]
        return ScreenResult(
            listing_id=listing.listing_id,
            decision=decision,
            shadow_decision=shadow,
            cluster=None,
            origin=None,
            reasons=reasons,
            model_version=self.loaded.version,
            policy_version=self.policy.version,
        )

    def screen(self, listings: Sequence[Listing]) -> list[ScreenResult]:
        model = self.loaded.model
        try:
            preds = model.predict(listings)
        except Exception:
            # Fail safe, never open: an internal error sends the listings to people.
            logger.exception("model error on %d listing(s); answering review", len(listings))
            return [self._model_error(listing) for listing in listings]
        labels = model.cluster_labels
        protected = self._protected_columns
        # Python floats from here: per-listing work on numpy scalars costs more than it does.
        cluster_rows: list[list[float]] = preds.cluster_proba.tolist()
        import_proba: list[float] = preds.import_proba.tolist()
        columns = range(len(labels))
        results = []
        for i, listing in enumerate(listings):
            row = cluster_rows[i]
            scores = {label: round(p, 6) for label, p in zip(labels, row, strict=True)}
            best = max(columns, key=row.__getitem__)  # the first of equal maxima, as argmax
            p_protected = 0.0
            for j in protected:
                p_protected += row[j]
            structured = structured_origin_evidence(listing)
            markers = title_markers(listing.title)
            if structured or markers:
                # An explicit claim decides, from a field or a marketplace's marker in the
                # title: the text model is not asked to overrule it.
                p_import = 1.0
                evidence = structured + markers
            else:
                p_import = import_proba[i]
                evidence = (
                    [f"title: '{t}'" for t in preds.origin_terms[i]] if p_import >= 0.5 else []
                )
            origin_label = "import" if p_import >= 0.5 else "domestic"
            verdict = self.policy.decide(p_protected, p_import)
            reasons = list(verdict.reasons)
            if structured and verdict.decision == "block":
                reasons.append("STRUCTURED_ORIGIN_EVIDENCE")
            if markers and verdict.decision == "block":
                reasons.append("MARKETPLACE_MARKER")
            shadow = None
            decision = verdict.decision
            if self.policy.mode == "shadow":
                shadow, decision = verdict.decision, "allow"
                reasons.insert(0, "SHADOW_MODE")
            results.append(
                ScreenResult(
                    listing_id=listing.listing_id,
                    decision=decision,
                    shadow_decision=shadow,
                    cluster=ClusterResult(
                        label=labels[best],
                        confidence=round(row[best], 6),
                        scores=scores,
                        evidence=preds.cluster_terms[i],
                    ),
                    origin=OriginResult(
                        label=origin_label,
                        confidence=round(max(p_import, 1 - p_import), 6),
                        import_probability=round(p_import, 6),
                        evidence=evidence,
                    ),
                    reasons=reasons,
                    model_version=self.loaded.version,
                    policy_version=self.policy.version,
                )
            )
        return results
