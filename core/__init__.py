"""Plumbing shared by every layer: the exception tree, typed settings, Redis connections, data paths."""

from core.errors import *  # noqa: F403
from core.errors import __all__ as _errors_all
from core.settings import Settings, get_settings

__all__ = [*_errors_all, "Settings", "get_settings"]
