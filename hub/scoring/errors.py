"""Errors of hub-side scoring."""

from hub.errors import HubError


class ScoringError(HubError):
    """Root of hub-side scoring errors."""


class ModelRefused(ScoringError):
    """A registered model cannot be scored here: its input schema does not match ours."""

    def __init__(self, model_label: str, reason: str) -> None:
        super().__init__(f"{model_label} refused: {reason}")
        self.model_label = model_label
        self.reason = reason
