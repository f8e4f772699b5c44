"""The Python client marketing tools and tests use. Every call carries a deadline.

    with MDSClient("127.0.0.1:50051", token="...") as mds:
        frame = mds.features.get(["u0000001"], ["age", "city"])
"""

from __future__ import annotations

from types import TracebackType

import grpc

from services.client._allocation import AllocationClient, RecommendClient
from services.client._base import CallOptions
from services.client._campaign import CampaignClient
from services.client._errors import field_violations
from services.client._experiments import ExperimentsClient
from services.client._features import FeaturesClient
from services.client._targeting import TargetingClient
from services.client._uplift import UpliftClient, feature_value

__all__ = ["MDSClient", "feature_value", "field_violations"]


class MDSClient:
    def __init__(self, address: str, *, token: str | None = None, timeout_s: float = 5.0,
                 root_certificates: bytes | None = None) -> None:
        if root_certificates is not None:
            self.channel = grpc.secure_channel(address, grpc.ssl_channel_credentials(root_certificates))
        else:
            self.channel = grpc.insecure_channel(address)
        metadata = (("authorization", f"Bearer {token}"),) if token else ()
        options = CallOptions(self.channel, metadata, timeout_s)
        self.features = FeaturesClient(options)
        self.uplift = UpliftClient(options)
        self.experiments = ExperimentsClient(options)
        self.targeting = TargetingClient(options)
        self.recommend, self.allocation = RecommendClient(options), AllocationClient(options)
        self.campaign = CampaignClient(options)

    def close(self) -> None:
        self.channel.close()

    def __enter__(self) -> MDSClient:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()
