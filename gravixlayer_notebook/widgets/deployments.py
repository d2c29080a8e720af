"""Deployments browser: table, filter, refresh, detail pane, delete with confirmation, auto-refresh.

While any deployment is `creating` (or another pending status) the widget refreshes itself every
`refresh_interval` seconds on a background timer, and stops once none is pending.
"""

from __future__ import annotations

import threading
from typing import Any

import ipywidgets as w
from traitlets import Bool, Dict, Float, List, Unicode, observe

from .._html import esc, html_card, plural
from ._base import Browser, button

__all__ = ["DeploymentsBrowser", "PENDING"]

PENDING = frozenset({"creating", "pending", "deploying", "starting", "provisioning"})


def _row(d: Any) -> dict[str, Any]:
    replicas = f"{d.min_replicas}-{d.max_replicas}" if d.min_replicas != d.max_replicas else f"{d.max_replicas}"
    return {
        "id": d.deployment_id or "",
        "name": d.deployment_name or "",
        "model": d.model_name or "",
        "gpu": f"{d.gpu_model or ''} x{d.gpu_count or 1}",
        "replicas": replicas if d.max_replicas is not None else "",
        "status": d.status or "",
        "created": d.created_at or "",
    }


class DeploymentsBrowser(Browser):
    """Your deployments: `rows` (all), `visible_rows` (filtered), `selected`, `pending_delete`."""

    columns = ("name", "model", "gpu", "replicas", "status", "created")

    rows = List(Dict(), help="Every deployment, as table rows.")
    visible_rows = List(Dict(), help="The rows that match `filter_text`.")
    filter_text = Unicode("", help="Case-insensitive filter on name, model, GPU and status.")
    selected = Unicode("", help="deployment_id shown in the detail pane.")
    pending_delete = Unicode("", help="deployment_id waiting for the delete confirmation.")
    auto_refreshing = Bool(False, help="True while a pending deployment keeps the timer running.")
    refresh_interval = Float(3.0, help="Seconds between automatic refreshes while something is pending.")

    def __init__(self, client: Any = None, *, refresh_interval: float = 3.0, load: bool = True, **kwargs: Any) -> None:
        super().__init__(client=client, **kwargs)
        self.refresh_interval = refresh_interval
        self._timer: threading.Timer | None = None
        self._lock = threading.Lock()
        self._details: dict[str, dict[str, Any]] = {}
        self._filter = w.Text(placeholder="filter: name, model, GPU, status", continuous_update=True)
        self._filter.add_class("gravix-filter")
        self._refresh_button = button("Refresh", icon="refresh", name="refresh")
        self._table = w.HTML()
        self._table.add_class("gravix-deployments")
        self._picker = w.Dropdown(description="Deployment", options=[])
        self._picker.add_class("gravix-picker")
        self._detail = w.HTML()
        self._delete_button = button("Delete", icon="trash", style="danger", name="delete")
        self._confirm_button = button("Confirm delete", style="danger", name="confirm")
        self._cancel_button = button("Cancel", name="cancel")
        self._confirm_box = w.HBox([w.HTML(), self._confirm_button, self._cancel_button])
        self._confirm_box.layout.display = "none"
        self._refresh_button.on_click(lambda _: self.refresh())
        self._delete_button.on_click(lambda _: self.request_delete())
        self._confirm_button.on_click(lambda _: self.confirm_delete())
        self._cancel_button.on_click(lambda _: self.cancel_delete())
        w.link((self._filter, "value"), (self, "filter_text"))
        self._picker.observe(self._on_pick, names="value")
        self.children = [
            w.HBox([self._filter, self._refresh_button]),
            self._table,
            w.HBox([self._picker, self._delete_button]),
            self._confirm_box,
            self._detail,
            self._status,
        ]
        if load:
            self.refresh()

    # -- actions -----------------------------------------------------------------------------------

    def refresh(self) -> None:
        """Reload the list from the service (also what the Refresh button and the timer do)."""
        try:
            deployments = list(self.client.deployments.list())
        except Exception as exc:
            self._fail("refresh", exc)
            return
        self._details = {d.deployment_id or "": d.to_dict(exclude_none=True) for d in deployments}
        self.rows = [_row(d) for d in deployments]
        pending = sum(1 for r in self.rows if r["status"].lower() in PENDING)
        self._ok(plural(len(self.rows), "deployment") + (f", {pending} still starting (auto-refresh on)" if pending else ""))
        self._schedule(pending > 0)

    def select(self, deployment_id: str) -> None:
        if deployment_id and deployment_id not in self._details:
            raise ValueError(f"no deployment {deployment_id!r} in the list")
        self.selected = deployment_id

    def request_delete(self, deployment_id: str | None = None) -> None:
        """Step 1 of 2: ask for confirmation (nothing is deleted yet)."""
        target = deployment_id or self.selected
        if not target:
            self.error = "select a deployment first"
            return
        self.pending_delete = target

    def confirm_delete(self) -> None:
        """Step 2 of 2: delete the deployment waiting for confirmation."""
        target = self.pending_delete
        if not target:
            self.error = "nothing to confirm: press Delete first"
            return
        name = self._details.get(target, {}).get("deployment_name", target)
        try:
            self.client.deployments.delete(target)
        except Exception as exc:
            self._fail("delete", exc)
            return
        finally:
            self.pending_delete = ""
        if self.selected == target:
            self.selected = ""
        self.refresh()
        self._ok(f"deleted {name}; {plural(len(self.rows), 'deployment')} left")

    def cancel_delete(self) -> None:
        self.pending_delete = ""
        self._ok("delete cancelled")

    def close(self) -> None:
        self._schedule(False)
        super().close()

    # -- auto-refresh --------------------------------------------------------------------------------

    def _schedule(self, on: bool) -> None:
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            if on:
                self._timer = threading.Timer(self.refresh_interval, self.refresh)
                self._timer.daemon = True
                self._timer.start()
            self.auto_refreshing = on

    # -- rendering (trait observers) -----------------------------------------------------------------

    def _matches(self, row: dict[str, Any]) -> bool:
        needle = self.filter_text.strip().lower()
        return not needle or any(needle in str(row[k]).lower() for k in ("name", "model", "gpu", "status", "id"))

    @observe("rows", "filter_text")
    def _update_visible(self, change: Any = None) -> None:
        self.visible_rows = [r for r in self.rows if self._matches(r)]

    @observe("visible_rows")
    def _render(self, change: Any = None) -> None:
        self._table.value = self.html_rows("gravix-deployments-table")
        options = [(f"{r['name']} ({r['status']})", r["id"]) for r in self.visible_rows]
        self._picker.options = [("(choose)", "")] + options
        self._picker.value = self.selected if any(v == self.selected for _, v in options) else ""

    def _on_pick(self, change: Any) -> None:
        self.selected = change["new"] or ""

    @observe("selected")
    def _render_detail(self, change: Any = None) -> None:
        if self._picker.value != self.selected and any(v == self.selected for _, v in self._picker.options):
            self._picker.value = self.selected
        detail = self._details.get(self.selected)
        self._detail.value = html_card(detail.get("deployment_name", ""), detail) if detail else ""

    @observe("pending_delete")
    def _render_confirm(self, change: Any = None) -> None:
        target = self.pending_delete
        if target:
            name = self._details.get(target, {}).get("deployment_name", target)
            label = self._confirm_box.children[0]
            assert isinstance(label, w.HTML)
            label.value = f"<b>Delete {esc(name)}?</b> This cannot be undone."
        self._confirm_box.layout.display = "flex" if target else "none"

    def table_rows(self) -> list[list[Any]]:
        return [[r[c] for c in self.columns] for r in self.visible_rows]
