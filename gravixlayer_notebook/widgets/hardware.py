"""Hardware pricing explorer: the GPU catalogue sorted and filtered by memory and price, a cost
estimator (GPU count x replicas x hours -> total) and a price chart (inline SVG, works offline)."""

from __future__ import annotations

from typing import Any

import ipywidgets as w
from traitlets import Bool, CaselessStrEnum, Dict, Float, Int, List, Unicode, observe

from .._html import esc, plural
from ._base import Browser, button

__all__ = ["HardwareExplorer", "estimate_cost"]

SORT_KEYS = {"price": "pricing", "memory": "memory_gb", "name": "name"}


def estimate_cost(price_per_gpu_hour: float, gpu_count: int, replicas: int, hours: float) -> float:
    """Total USD for `gpu_count` GPUs on each of `replicas` replicas for `hours` hours."""
    return round(price_per_gpu_hour * gpu_count * replicas * hours, 6)


def _row(a: Any) -> dict[str, Any]:
    return {
        "gpu": a.gpu_model or "",
        "name": a.name or a.gpu_model or "",
        "memory_gb": float(a.gpu_memory) if a.gpu_memory is not None else 0.0,
        "link": a.gpu_link or "",
        "provider": a.provider or "",
        "pricing": float(a.pricing) if a.pricing is not None else 0.0,
        "status": a.status or "",
    }


class HardwareExplorer(Browser):
    """GPUs and prices: `rows`, `visible_rows` (filtered + sorted), estimator traits and `estimate`."""

    columns = ("name", "memory_gb", "link", "provider", "pricing")

    rows = List(Dict(), help="The whole catalogue.")
    visible_rows = List(Dict(), help="Rows within the memory/price filters, in sort order.")
    sort_by = CaselessStrEnum(tuple(SORT_KEYS), default_value="price", help="price, memory or name.")
    descending = Bool(False)
    min_memory = Float(0.0, help="Hide GPUs with less memory (GB).")
    max_price = Float(0.0, help="Hide GPUs above this price per hour (0 = no limit).")
    gpu = Unicode("", help="GPU model used by the cost estimator.")
    gpu_count = Int(1, min=1)
    replicas = Int(1, min=1)
    hours = Float(24.0, min=0.0)
    estimate = Float(0.0, help="USD: price x GPU count x replicas x hours.")

    def __init__(self, client: Any = None, *, load: bool = True, **kwargs: Any) -> None:
        super().__init__(client=client, **kwargs)
        self._sort = w.Dropdown(options=list(SORT_KEYS), value="price", description="Sort by")
        self._sort.add_class("gravix-sort")
        self._desc = w.Checkbox(value=False, description="descending", indent=False)
        self._min_mem = w.BoundedFloatText(value=0, min=0, max=10_000, step=8, description="Min GB")
        self._max_price = w.BoundedFloatText(value=0, min=0, max=10_000, step=0.5, description="Max $/h")
        self._refresh_button = button("Refresh", icon="refresh", name="refresh")
        self._table = w.HTML()
        self._table.add_class("gravix-hardware")
        self._chart = w.HTML()
        self._chart.add_class("gravix-chart")
        self._gpu = w.Dropdown(description="GPU", options=[])
        self._count = w.Dropdown(description="GPUs", options=[1, 2, 4, 8], value=1)
        self._replicas = w.BoundedIntText(value=1, min=1, max=1000, description="Replicas")
        self._hours = w.BoundedFloatText(value=24, min=0, max=100_000, description="Hours")
        self._total = w.HTML()
        self._total.add_class("gravix-total")
        for src, trait in ((self._sort, "sort_by"), (self._desc, "descending"), (self._min_mem, "min_memory"),
                           (self._max_price, "max_price"), (self._count, "gpu_count"), (self._replicas, "replicas"),
                           (self._hours, "hours")):  # fmt: skip
            w.link((src, "value"), (self, trait))
        self._gpu.observe(lambda ch: setattr(self, "gpu", ch["new"] or ""), names="value")
        self._refresh_button.on_click(lambda _: self.refresh())
        self.children = [
            w.HBox([self._sort, self._desc, self._refresh_button]),
            w.HBox([self._min_mem, self._max_price]),
            self._table,
            self._chart,
            w.HTML("<b>Cost estimator</b>"),
            w.HBox([self._gpu, self._count]),
            w.HBox([self._replicas, self._hours]),
            self._total,
            self._status,
        ]
        if load:
            self.refresh()

    def refresh(self) -> None:
        try:
            catalogue = list(self.client.accelerators.list())
        except Exception as exc:
            self._fail("refresh", exc)
            return
        self.rows = [_row(a) for a in catalogue]
        self._gpu.options = [(f"{r['name']} (${r['pricing']:.2f}/h)", r["gpu"]) for r in self.rows]
        if self.rows and self.gpu not in {r["gpu"] for r in self.rows}:
            self.gpu = self._gpu.value = self.rows[0]["gpu"]
        self._ok(plural(len(self.rows), "GPU type"))

    def price_of(self, gpu: str) -> float | None:
        return next((r["pricing"] for r in self.rows if r["gpu"] == gpu), None)

    @observe("rows", "sort_by", "descending", "min_memory", "max_price")
    def _update_visible(self, change: Any = None) -> None:
        key = SORT_KEYS[self.sort_by.lower()]
        rows = [
            r for r in self.rows
            if r["memory_gb"] >= self.min_memory and (self.max_price <= 0 or r["pricing"] <= self.max_price)
        ]  # fmt: skip
        self.visible_rows = sorted(rows, key=lambda r: (r[key], r["name"]), reverse=self.descending)

    @observe("visible_rows")
    def _render(self, change: Any = None) -> None:
        self._table.value = self.html_rows("gravix-hardware-table")
        self._chart.value = self.chart_svg()

    @observe("gpu", "gpu_count", "replicas", "hours", "rows")
    def _update_estimate(self, change: Any = None) -> None:
        if self._gpu.value != self.gpu and self.gpu in [v for _, v in self._gpu.options]:
            self._gpu.value = self.gpu
        price = self.price_of(self.gpu)
        self.estimate = estimate_cost(price, self.gpu_count, self.replicas, self.hours) if price is not None else 0.0
        self._total.value = (
            f"<b>${self.estimate:,.2f}</b> = ${price:.2f}/h x {self.gpu_count} GPU x {self.replicas} replicas "
            f"x {self.hours:g} h"
            if price is not None
            else "choose a GPU"
        )

    def chart_svg(self) -> str:
        """A horizontal bar chart of price per hour for the visible rows."""
        rows = self.visible_rows[:30]
        if not rows:
            return "<i>no GPU matches the filters</i>"
        top = max(r["pricing"] for r in rows) or 1.0
        bar_h, label_w, width = 18, 190, 520
        parts = [f'<svg class="gravix-price-chart" width="{width}" height="{bar_h * len(rows) + 4}" '
                 'xmlns="http://www.w3.org/2000/svg" style="font:11px sans-serif">']  # fmt: skip
        for i, r in enumerate(rows):
            y = i * bar_h + 2
            length = max(1.0, (width - label_w - 70) * r["pricing"] / top)
            parts.append(
                f'<text x="0" y="{y + 12}">{esc(r["name"])}</text>'
                f'<rect x="{label_w}" y="{y + 2}" width="{length:.1f}" height="{bar_h - 5}" fill="#4a90d9"/>'
                f'<text x="{label_w + length + 4:.1f}" y="{y + 12}">${r["pricing"]:.2f}/h</text>'
            )
        parts.append("</svg>")
        return "".join(parts)

    def table_rows(self) -> list[list[Any]]:
        return [[r[c] for c in self.columns] for r in self.visible_rows]
