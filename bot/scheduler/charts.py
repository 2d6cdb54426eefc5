"""The digest's picture: 12 weeks of kept commitments and give/get balance, as a PNG.

matplotlib is imported on first use with the headless Agg backend: a server has
no display, and importing pyplot costs half a second nobody should pay at start.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from bot.services.digest import WeekPoint

CHART_FILENAME = "relationship-trend.png"


def chart_data(points: Sequence[WeekPoint]) -> list[dict[str, Any]]:
    """The chart's numbers as stored in an outbox row (JSON), oldest week first."""
    return [
        {
            "week": point.week.isoformat(),
            "due": point.due,
            "kept": point.kept,
            "traded": point.traded,
            "one_way": point.one_way,
        }
        for point in points
    ]


def has_data(data: Sequence[dict[str, Any]]) -> bool:
    return any(p["due"] or p["traded"] or p["one_way"] for p in data)


def alt_text(data: Sequence[dict[str, Any]]) -> str:
    """The chart in words: for screen readers, and the fallback when upload is refused."""
    due = sum(p["due"] for p in data)
    kept = sum(p["kept"] for p in data)
    traded = sum(p["traded"] for p in data)
    one_way = sum(p["one_way"] for p in data)
    rate = f"{round(100 * kept / due)}%" if due else "no follow-ups due"
    return (
        f"Last {len(data)} weeks: {kept} of {due} follow-ups kept on time ({rate}); "
        f"{traded} concessions traded for something, {one_way} given with nothing back."
    )


def render_png(data: Sequence[dict[str, Any]]) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    labels = [p["week"][5:] for p in data]  # MM-DD of each Monday
    rates = [100 * p["kept"] / p["due"] if p["due"] else None for p in data]
    figure = Figure(figsize=(7, 3.2), dpi=100)
    kept_axes, balance_axes = figure.subplots(1, 2)
    kept_axes.plot(
        range(len(data)),
        [r if r is not None else float("nan") for r in rates],
        marker="o",
        color="#2eb67d",
    )
    kept_axes.set_ylim(0, 105)
    kept_axes.set_title("Follow-ups kept on time (%)", fontsize=9)
    balance_axes.bar(range(len(data)), [p["traded"] for p in data], color="#36c5f0", label="traded")
    balance_axes.bar(
        range(len(data)), [-p["one_way"] for p in data], color="#e01e5a", label="nothing back"
    )
    balance_axes.axhline(0, color="#666666", linewidth=0.8)
    balance_axes.set_title("Concessions: traded vs. given away", fontsize=9)
    balance_axes.legend(fontsize=7, loc="upper left")
    for axes in (kept_axes, balance_axes):
        axes.set_xticks(range(len(data)), labels, rotation=60, fontsize=7)
        axes.tick_params(axis="y", labelsize=7)
    figure.tight_layout()
    out = io.BytesIO()
    figure.savefig(out, format="png")
    return out.getvalue()
