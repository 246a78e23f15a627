"""ECharts options shared by pages (the page renders them with json_script; static/js/xiaodai.js draws)."""

from __future__ import annotations

from typing import Any


def funnel(stages: list[tuple[str, int]]) -> dict[str, Any]:
    """A funnel of (label, count) stages in the given order, widest at the top."""
    peak = max((value for _label, value in stages), default=0) or 1
    return {
        "tooltip": {"trigger": "item", "formatter": "{b}: {c}"},
        "series": [
            {
                "type": "funnel",
                "sort": "none",
                "min": 0,
                "max": peak,
                "left": "6%",
                "width": "58%",
                "top": 8,
                "bottom": 8,
                "gap": 2,
                "minSize": "4%",
                # Outside, so a stage with few customers still has a readable label.
                "label": {"show": True, "position": "right", "formatter": "{b}  {c}"},
                "labelLine": {"show": True, "length": 12},
                "data": [{"name": label, "value": value} for label, value in stages],
            }
        ],
    }
