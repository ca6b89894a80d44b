"""CYPP performance dashboard: the plan, the store, status and exports (all logic lives here)."""
