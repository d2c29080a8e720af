"""A real JupyterLab server for the browser tests: a free loopback port, no token, Jupyter's dirs isolated
in a temporary folder, and the environment a user has (no API key: the notebooks use GravixLayer Local).

JupyterLab autosaves into what it serves, so it serves copies. `--LabApp.expose_app_in_browser` gives the
test `window.jupyterapp` to run commands and read the notebook model.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]

# JavaScript run in the page ------------------------------------------------------------------------

APP_READY = "async () => { await window.jupyterapp.started; await window.jupyterapp.restored; }"

PANEL_READY = """(path) => {
  const w = window.jupyterapp.shell.currentWidget;
  if (!w || !w.context || w.context.path !== path || !w.sessionContext) return false;
  const k = w.sessionContext.session && w.sessionContext.session.kernel;
  return !!k && k.status === 'idle' && k.connectionStatus === 'connected';
}"""

# never `await` commands.execute in page.evaluate: it has no timeout
RUN_ALL = "() => { window.jupyterapp.commands.execute('notebook:run-all-cells'); }"

# Done when the kernel is idle and no cell waits ([*]) or lacks an execution count; an error stops
# Run All with the rest unrun, so an error output also ends the wait (the test then reports it).
# Only the notebook's own cells count: a cell offered by set_next_input (-f code) is not run by Run All.
RUN_FINISHED = """([path, originals]) => {
  const w = window.jupyterapp.shell.currentWidget;
  if (!w || w.context.path !== path) return false;
  const k = w.sessionContext.session && w.sessionContext.session.kernel;
  if (!k || k.status !== 'idle') return false;
  const own = new Set(originals);
  const code = w.content.widgets.filter(c => c.model.type === 'code' && c.model.sharedModel.getSource().trim()
    && own.has(c.model.sharedModel.getSource()));
  if (code.some(c => (c.node.querySelector('.jp-InputPrompt') || {}).textContent === '[*]:')) return false;
  const failed = code.some(c => c.model.outputs.toJSON().some(o => o.output_type === 'error'));
  return failed || code.every(c => c.model.executionCount !== null);
}"""

# What each code cell ended with: execution count, output types, errors, widget outputs and their DOM.
CELL_REPORT = """(path) => {
  const w = window.jupyterapp.shell.currentWidget;
  return w.content.widgets.map((c, index) => {
    if (c.model.type !== 'code') return null;
    const outputs = c.model.outputs.toJSON();
    const widgetOutputs = outputs.filter(o => o.data && o.data['application/vnd.jupyter.widget-view+json']).length;
    const area = c.node.querySelector('.jp-OutputArea');
    return {
      index, source: c.model.sharedModel.getSource().slice(0, 60), full: c.model.sharedModel.getSource(),
      empty: !c.model.sharedModel.getSource().trim(),
      count: c.model.executionCount,
      types: outputs.map(o => o.output_type),
      errors: outputs.filter(o => o.output_type === 'error').map(o => o.ename + ': ' + o.evalue),
      widgetOutputs,
      widgetsRendered: area ? area.querySelectorAll('.jp-OutputArea-output .jupyter-widgets').length : 0,
      widgetErrors: area ? [...area.querySelectorAll('.jp-OutputArea-output')].map(e => e.textContent)
        .filter(t => /Error displaying widget|Loading widget/.test(t)).length : 0,
    };
  }).filter(x => x !== null);
}"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def user_env(tmp: Path) -> dict[str, str]:
    """A user's environment (no GRAVIXLAYER_* settings, so Local and streaming defaults), Jupyter dirs in tmp."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRAVIXLAYER_")}
    env.pop("TQDM_DISABLE", None)
    env.update(
        JUPYTER_CONFIG_DIR=str(tmp / "config"), JUPYTER_DATA_DIR=str(tmp / "data"),
        JUPYTER_RUNTIME_DIR=str(tmp / "runtime"), IPYTHONDIR=str(tmp / "ipython"),
        JUPYTERLAB_SETTINGS_DIR=str(tmp / "settings"), JUPYTERLAB_WORKSPACES_DIR=str(tmp / "workspaces"),
        GRAVIXLAYER_LOCAL_DATA_DIR=str(tmp / "local-data"),
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        PYTHONPATH=os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p),
    )  # fmt: skip
    return env


class JupyterLab:
    def __init__(self, root: Path, tmp: Path) -> None:
        self.root, self.port = root, free_port()
        env = user_env(tmp)
        news = Path(env["JUPYTERLAB_SETTINGS_DIR"]) / "@jupyterlab" / "apputils-extension"
        news.mkdir(parents=True, exist_ok=True)
        (news / "notification.jupyterlab-settings").write_text(json.dumps({"fetchNews": "false"}))
        self.log_path = tmp / "jupyterlab.log"
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root", f"--port={self.port}",
             "--ip=127.0.0.1", "--ServerApp.port_retries=0", "--IdentityProvider.token=",
             "--ServerApp.password=", "--ServerApp.disable_check_xsrf=True", f"--ServerApp.root_dir={root}",
             "--LabApp.news_url=None", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
             "--LabApp.extension_manager=readonly", "--LabApp.expose_app_in_browser=True",
             f"--LabApp.workspaces_dir={tmp / 'workspaces'}"],
            env=env, stdout=self.log, stderr=subprocess.STDOUT, cwd=root,
        )  # fmt: skip
        deadline = time.monotonic() + 90
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"jupyter lab exited: {self.log_path.read_text()[-3000:]}")
            try:
                if httpx.get(f"{self.url}/api/status", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"jupyter lab did not start within 90 s: {self.log_path.read_text()[-3000:]}")
            time.sleep(0.1)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
        self.log.close()
