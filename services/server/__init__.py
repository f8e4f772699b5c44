"""Where requests enter: the shared gRPC server bootstrap, its interceptor and service context."""

from services.server.app import MDSServer, serve_forever
from services.server.background import BackgroundServer
from services.server.context import ServiceContext
from services.server.interceptors import MDSInterceptor, status_for

__all__ = ["BackgroundServer", "MDSInterceptor", "MDSServer", "ServiceContext", "serve_forever", "status_for"]
