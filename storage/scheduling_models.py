"""Models of the relationship scheduler: user preferences, QBRs, check-ins, touches."""

from __future__ import annotations
