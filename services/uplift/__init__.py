"""The uplift gRPC service (``mds.uplift.v1.UpliftService``)."""

from services.uplift.servicer import UpliftServicer, register

__all__ = ["UpliftServicer", "register"]
