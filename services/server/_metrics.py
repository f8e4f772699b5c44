"""Prometheus metrics of every gRPC call, served over HTTP on ``settings.metrics_port``."""

from __future__ import annotations

from prometheus_client import Counter, Histogram, start_http_server

__all__ = ["REQUESTS", "LATENCY", "ERRORS", "serve_metrics"]

REQUESTS = Counter("mds_grpc_requests_total", "gRPC calls handled", ["service", "method", "code"])
ERRORS = Counter("mds_grpc_errors_total", "gRPC calls that ended with a non-OK code", ["service", "method", "code"])
LATENCY = Histogram(
    "mds_grpc_request_seconds", "gRPC call latency", ["service", "method"],
    buckets=(0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)


def serve_metrics(host: str, port: int) -> int:
    """Start the /metrics HTTP endpoint; return the bound port (``port=0`` picks a free one)."""
    server, _thread = start_http_server(port, addr=host)
    return int(server.server_port)
