"""FeatureService (gRPC)."""
