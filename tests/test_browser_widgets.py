"""Every widget of the course, moved by a student in JupyterLab in a real browser.

JupyterLab of the course's own environment serves fresh student copies of the notebooks
with interactive widgets; headless Chromium opens each one, runs all cells and then moves
every slider (arrow keys on its handle, as a student does) while nothing else waits. The
test fails on a traceback in any cell or widget, on anything JupyterLab's log console
shows at its default level (kernel output that reached no cell, such as a figure or an
error from a callback), on an error in the browser console, and on a move after which the
widget's figure is not redrawn.

Why: with ipykernel 7 and JupyterLab >= 4.4 (whose ``commsOverSubshells`` setting
defaults to ``perCommTarget``), widget callbacks run on a subshell thread at the same
time as cells on the main thread, and matplotlib is not thread-safe; notebook 08's
spaxel explorer failed on half of its moves (see the pin of ipykernel in pyproject.toml).
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
import time
from pathlib import Path

import pytest

from browser import chromium, console_errors, jupyterlab, require_browser

ROOT = Path(__file__).resolve().parent.parent
MOVES = 5  # per slider
# notebooks whose code makes a widget; a new one is picked up by this pattern
WIDGET_CODE = re.compile(r"\binteract(ive)?(_output)?\(|ipywidgets")

RECORD = """
const panel = window.jupyterapp.shell.currentWidget;
window.courseLog = {outputs: [], unhandled: []};
const keep = (msg) => ({type: msg.header.msg_type, parent: (msg.parent_header || {}).msg_type,
                        name: msg.content.name, text: msg.content.text, ename: msg.content.ename,
                        evalue: msg.content.evalue, traceback: msg.content.traceback});
const outputs = ['display_data', 'stream', 'error', 'execute_result', 'update_display_data'];
panel.sessionContext.iopubMessage.connect((_, msg) => {
  if (outputs.includes(msg.header.msg_type)) window.courseLog.outputs.push(keep(msg));
});
// what JupyterLab's log console shows at its default level: output that reached no cell
panel.sessionContext.unhandledMessage.connect((_, msg) => {
  if (outputs.includes(msg.header.msg_type)) window.courseLog.unhandled.push(keep(msg));
});
"""

STATE = """
const panel = window.jupyterapp.shell.currentWidget;
const kernel = panel.sessionContext.session && panel.sessionContext.session.kernel;
const cells = Array.from(panel.content.model.cells).filter(c => c.type === 'code'
                                                         && c.sharedModel.getSource().trim());
return {status: kernel ? kernel.status : 'none',
        unrun: cells.filter(c => c.executionCount === null).length,
        running: document.querySelectorAll('.jp-Cell.jp-mod-running, .jp-Cell [data-running]').length};
"""

# each slider of each interact: (interact index, slider index, value shown, hash of the figure)
WIDGETS = """
const hash = (s) => { let h = 0; for (let i = 0; i < s.length; i++) h = (h * 31 + s.charCodeAt(i)) | 0; return h; };
return Array.from(document.querySelectorAll('.widget-interact')).map((box, i) => {
  const img = box.querySelector('.widget-output img');
  return {box: i, sliders: box.querySelectorAll('.noUi-handle').length,
          values: Array.from(box.querySelectorAll('.widget-readout')).map(r => r.textContent.trim()),
          figure: img ? hash(img.src) + ':' + img.src.length : null,
          text: box.querySelector('.widget-output') ? box.querySelector('.widget-output').innerText : ''};
});
"""


def widget_notebooks() -> list[Path]:
    return sorted(p for p in (ROOT / "solutions").glob("[0-9][0-9]_*.ipynb")
                  if any(WIDGET_CODE.search("".join(c["source"])) for c in json.loads(p.read_text())["cells"]
                         if c["cell_type"] == "code"))


def test_the_course_has_the_widget_notebooks_this_test_moves():
    assert {p.name[:2] for p in widget_notebooks()} >= {"02", "03", "08"}


@pytest.fixture(scope="module")
def lab():
    require_browser()
    from course_utils.notebooks import write_student_copy

    folder = Path(tempfile.mkdtemp(prefix="browser-notebooks-"))
    for source in widget_notebooks():
        write_student_copy(source, folder)
    try:
        with jupyterlab(folder) as server:
            yield server
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _wait(driver, what: str, condition, timeout: float):
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.5)


def _idle(driver, timeout: float) -> None:
    """Wait until every code cell has run and the kernel stayed idle for two seconds."""
    quiet = []

    def settled():
        state = driver.execute_script(STATE)
        quiet.append(state["status"] == "idle" and state["unrun"] == 0)
        return len(quiet) >= 4 and all(quiet[-4:])

    _wait(driver, "the kernel to finish", settled, timeout)


def _problems(driver) -> list[str]:
    log = driver.execute_script("return window.courseLog")
    found = [f"browser console: {m}" for m in console_errors(driver)]
    for msg in log["outputs"]:
        if msg["type"] == "error":
            found.append(f"traceback ({msg['parent']}): {msg['ename']}: {msg['evalue']}")
        elif msg["type"] == "stream" and msg["name"] == "stderr" and re.search(
                r"Traceback|Error|Exception", msg["text"] or ""):
            found.append(f"stderr ({msg['parent']}): {msg['text'][:300]}")
    for msg in log["unhandled"]:
        found.append(f"log console: {msg['type']} from a {msg['parent']} "
                     f"{(msg['text'] or msg['evalue'] or '')[:200]}")
    return found


@pytest.mark.parametrize("name", [p.name for p in widget_notebooks()])
def test_every_widget_redraws_its_figure_on_every_move(lab, name):
    url, token = lab
    with chromium() as driver:
        _move_every_widget(driver, f"{url}/lab/tree/{name}?token={token}", name)


def _move_every_widget(driver, address: str, name: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    driver.get(address)
    _wait(driver, "JupyterLab and the notebook's kernel", lambda: driver.execute_script(
        "const p = window.jupyterapp && window.jupyterapp.shell.currentWidget;"
        "return !!(p && p.sessionContext && p.context && p.context.path.endsWith(arguments[0])"
        " && p.sessionContext.session && p.sessionContext.session.kernel"
        " && p.sessionContext.session.kernel.status === 'idle');", name), 180)
    driver.execute_script(RECORD)
    driver.execute_script("window.jupyterapp.commands.execute('notebook:run-all-cells');")
    time.sleep(2)
    _idle(driver, 600)

    boxes = driver.execute_script(WIDGETS)
    assert boxes, f"{name}: no interactive widget was displayed"
    moves, failed = 0, []
    for box in boxes:
        assert box["figure"], f"{name}: widget {box['box']} shows no figure: {box['text'][:300]}"
        for k in range(box["sliders"]):
            for _ in range(MOVES):
                before = driver.execute_script(WIDGETS)[box["box"]]
                handle = driver.find_elements(By.CSS_SELECTOR, ".widget-interact")[box["box"]] \
                    .find_elements(By.CSS_SELECTOR, ".noUi-handle")[k]
                driver.execute_script("arguments[0].scrollIntoView({block: 'center'}); arguments[0].focus();",
                                      handle)
                handle.send_keys(Keys.ARROW_RIGHT)
                moves += 1
                try:
                    _wait(driver, "the slider to move", lambda: driver.execute_script(WIDGETS)[box["box"]]
                          ["values"] != before["values"], 20)
                    time.sleep(0.5)
                    _idle(driver, 120)
                    _wait(driver, "the figure to be redrawn", lambda: driver.execute_script(WIDGETS)
                          [box["box"]]["figure"] not in (None, before["figure"]), 30)
                except AssertionError as error:
                    after = driver.execute_script(WIDGETS)[box["box"]]
                    failed.append(f"widget {box['box']} slider {k} at {after['values']}: {error}; "
                                  f"it shows: {after['text'][:300]!r}")
    problems = _problems(driver)
    driver.execute_script("window.jupyterapp.shell.currentWidget.sessionContext.shutdown()")
    print(f"{name}: {moves} moves, {len(failed)} without a new figure, {len(problems)} errors")
    assert moves >= MOVES * len(boxes)
    assert not failed and not problems, f"{name}: {moves} moves\n" + "\n".join(failed + problems)
