"""ExperimentService: A/B read-outs from pre-aggregated sufficient statistics over gRPC."""

from services.experiments.convert import (
    arms_from_proto,
    arms_to_proto,
    comparison_to_proto,
    settings_from_proto,
)

__all__ = ["arms_from_proto", "arms_to_proto", "comparison_to_proto", "settings_from_proto"]
