"""Every change the analytics app makes: rollups, hotspots, governance tasks, backlog cases, campaigns,
reports and exports (split by sub-domain)."""

from jiefen.analytics.services.rollups import RollupResult, is_stale, rebuild_rollups, refresh_rollups

__all__ = ["RollupResult", "is_stale", "rebuild_rollups", "refresh_rollups"]
