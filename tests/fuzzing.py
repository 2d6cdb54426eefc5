"""Shared pieces of the fuzz tests: the settings, the text strategy, row counts."""

from __future__ import annotations

from collections.abc import Sequence

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from storage.db import SessionFactory
from storage.models import Base

# The app is driven over real HTTP: examples are slower than Hypothesis expects, and
# the database fixture is deliberately shared across one test's examples.
FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def command_text(keywords: Sequence[str], *, max_words: int = 12) -> st.SearchStrategy[str]:
    """Any text, and text built from the command's own keywords mixed with noise."""
    return st.one_of(
        st.text(max_size=300),
        st.lists(
            st.one_of(st.sampled_from(list(keywords)), st.text(max_size=12)), max_size=max_words
        ).map(" ".join),
    )


def row_counts(db: SessionFactory, *models: type[Base]) -> tuple[int, ...]:
    with db() as session:
        return tuple(
            session.scalar(select(func.count()).select_from(model)) or 0 for model in models
        )
