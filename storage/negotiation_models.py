"""Models of the negotiation copilot: MESO sets, governance plans, debriefs."""

from __future__ import annotations
