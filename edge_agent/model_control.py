"""The agent's side of model updates: offers in, shadow, promote, roll back, report."""

from __future__ import annotations

import logging
import shutil

from edge_agent.errors import ModelError, ModelFetchError
from edge_agent.model_runtime import OnnxModel
from edge_agent.models import Candidate, ModelUpdater, shown
from edge_agent.scoring import Scorer, ScoreResult
from edge_agent.settings import ModelSettings
from shared.bundle import BundleError
from shared.features import FeatureSpec
from shared.messages import ModelOffer, ModelUpdateReport, UpdateOutcome

log = logging.getLogger(__name__)


class ModelControl:
    def __init__(self, settings: ModelSettings, scorer: Scorer) -> None:
        self.settings = settings
        self.scorer = scorer
        self.updater = ModelUpdater(settings) if settings.public_key_file is not None else None
        self._candidate: Candidate | None = None
        #: Set when something an operator should see changed (the agent publishes status).
        self.changed = False
        if self.updater is not None:
            self._load_current()

    @property
    def running(self) -> OnnxModel | None:
        return self.scorer.model

    @property
    def last_update(self) -> ModelUpdateReport | None:
        return self.updater.store.last_update if self.updater else None

    @property
    def candidate_label(self) -> str | None:
        return self._candidate.model.label if self._candidate else None

    def close(self) -> None:
        if self.updater is not None:
            self.updater.close()

    def _load_current(self) -> None:
        assert self.updater is not None
        store = self.updater.store
        label = store.current
        if label is None:
            return
        try:
            self.scorer.set_model(store.load(label))
            log.info("running model %s", label)
        except ModelError as exc:
            self._roll_back(f"cannot load at start-up: {exc}")

    # -- offers -----------------------------------------------------------------

    def on_offer(self, offer: ModelOffer) -> None:
        if self.updater is None:
            log.warning(
                "model offer %s ignored: no pinned public key (model.public_key_file)",
                offer.manifest.label,
            )
            return
        running = self.running.label if self.running else None
        if not self.updater.should_consider(offer, running=running, shadow=self.candidate_label):
            return
        log.info("model offer %s from %s", offer.manifest.label, shown(offer.bundle_url))
        try:
            self.updater.check_signature(offer)
        except BundleError as exc:
            self._report(offer, UpdateOutcome.REJECTED, str(exc))
            return
        spec = FeatureSpec(window_s=offer.manifest.window_s, min_samples=offer.manifest.min_samples)
        self.updater.prepare(offer, self.scorer.recent_features(spec))

    def tick(self) -> None:
        """Pick up a finished preparation (fetch, verify, load, check on recent data)."""
        if self.updater is None:
            return
        done = self.updater.poll()
        if done is None:
            return
        offer, outcome = done
        if isinstance(outcome, BaseException):
            kind = (
                UpdateOutcome.FAILED
                if isinstance(outcome, ModelFetchError)
                else UpdateOutcome.REJECTED
            )
            if not isinstance(outcome, BundleError | ModelError | ModelFetchError):
                log.error(
                    "model update %s failed unexpectedly", offer.manifest.label, exc_info=outcome
                )
            self._discard(offer.manifest.label)
            self._report(offer, kind, str(outcome))
            return
        if self.settings.shadow_readings == 0:
            self._promote(outcome)
            return
        self._candidate = outcome
        self.scorer.start_shadow(outcome.model, rows=self.settings.shadow_readings)
        log.info(
            "model %s verified; shadow-scoring %d reading(s) before promotion",
            outcome.model.label,
            self.settings.shadow_readings,
        )

    def after_scoring(self, result: ScoreResult) -> None:
        if result.model_failure is not None:
            self._roll_back(result.model_failure)
        if self._candidate is None:
            return
        if result.shadow_failure is not None:
            candidate, self._candidate = self._candidate, None
            self.scorer.end_shadow()
            self._discard(candidate.model.label)
            self._report(
                candidate.offer, UpdateOutcome.REJECTED, f"shadow scoring: {result.shadow_failure}"
            )
        elif result.shadow_passed:
            candidate, self._candidate = self._candidate, None
            self.scorer.end_shadow()
            self._promote(candidate)

    # -- state changes ---------------------------------------------------------

    def _promote(self, candidate: Candidate) -> None:
        assert self.updater is not None
        self.updater.store.promote(candidate.model.label)
        self.scorer.set_model(candidate.model)
        self._report(candidate.offer, UpdateOutcome.PROMOTED, None)

    def _roll_back(self, reason: str) -> None:
        assert self.updater is not None
        store = self.updater.store
        failing = store.current or "?"
        previous = store.roll_back()
        model = None
        if previous is not None:
            try:
                model = store.load(previous)
            except ModelError as exc:
                reason += f"; previous {previous} cannot run either: {exc}"
                store.roll_back()
        self.scorer.set_model(model)
        model_id, _, version = failing.partition("@")
        store.report((model_id, version), UpdateOutcome.ROLLED_BACK, reason)
        log.error(
            "model %s rolled back to %s: %s", failing, model.label if model else "none", reason
        )
        self.changed = True

    def _discard(self, label: str) -> None:
        assert self.updater is not None
        store = self.updater.store
        if label not in (store.current, store.previous):
            shutil.rmtree(store.directory(label), ignore_errors=True)

    def _report(self, offer: ModelOffer, outcome: UpdateOutcome, reason: str | None) -> None:
        assert self.updater is not None
        manifest = offer.manifest
        self.updater.store.report((manifest.model_id, manifest.version), outcome, reason)
        level = logging.INFO if outcome == UpdateOutcome.PROMOTED else logging.ERROR
        log.log(
            level,
            "model update %s: %s%s",
            manifest.label,
            outcome.value,
            f" ({reason})" if reason else "",
        )
        self.changed = True
