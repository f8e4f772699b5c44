"""Scoring with registered uplift models: budgeted selection, batch scoring (local, Spark), demo model."""

from models.uplift.scoring._select import Selection, select_top

__all__ = ["Selection", "select_top"]
