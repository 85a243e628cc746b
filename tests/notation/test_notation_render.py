"""Score rendering with verovio in a worker process: real tunes to SVG pages QtSvg can draw,
crashing and hanging inputs that leave the next render working, and no orphan processes."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
import threading
import time

import pytest

from workbench.corpus import load
from workbench.notation.render import RenderResult, ScoreRenderer, render_svg_once

STRAY_BRACKET = "X:1\nT:Stray\nM:4/4\nL:1/8\nK:G\nABcd ] efga|\n"  # kills verovio (SIGSEGV)


@pytest.fixture(scope="module")
def renderer():
    with ScoreRenderer() as r:
        yield r


@pytest.fixture(scope="module")
def tune() -> str:
    text = load(["corpus:miscFolk"]).tunes[1].text
    assert "T:Baker's Buck" in text
    return text


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (dead, not yet reaped) counts as gone.
    with open(f"/proc/{pid}/stat") as f:
        return f.read().split(") ")[1][0] != "Z"


def test_real_tune_renders_to_pages_with_its_notes(renderer, tune):
    result = renderer.render(tune)
    assert result.ok and result.error is None
    assert len(result.pages) == 1
    page = result.pages[0]
    # Baker's Buck has 75 notes; verovio draws each as a <g class="note">.
    assert page.count('class="note"') == 75
    # Repaired for QtSvg: one <svg> with the viewBox, no nested tspans, the title as text.
    assert page.count("<svg") == 1
    assert re.search(r'<svg[^>]*viewBox="0 0 21000 29700"', page)
    assert "<tspan" not in page
    assert re.search(r"<text[^>]*font-size=\"\d+px\"[^>]*>Baker's Buck</text>", page)


def test_long_tune_gives_several_pages(renderer, tune):
    body = tune.split("K:G\n", 1)[1]
    long_tune = tune + ("\n" + body) * 12
    result = renderer.render(long_tune, scale=60, page_height=1500)
    assert result.ok and len(result.pages) >= 2
    assert all('class="note"' in page for page in result.pages)


def test_timemap_names_the_notes_drawn(renderer):
    chester = load(["corpus:miscFolk"]).tunes[3].text
    assert "T:Chester" in chester
    result = renderer.render(chester, timemap=True)
    assert result.ok and result.timemap
    ids = {i for event in result.timemap for i in event.get("on", [])}
    # Chester repeats its first strain: the second time round its notes are "<id>-rend2".
    assert any(i.endswith("-rend2") for i in ids)
    drawn = {re.sub(r"-rend\d+$", "", i) for i in ids}
    assert drawn and all(f'id="{i}"' in "".join(result.pages) for i in drawn)
    stamps = [e["tstamp"] for e in result.timemap]
    assert stamps == sorted(stamps) and stamps[0] == 0


def test_timemap_crash_keeps_the_pages(renderer, tune):
    """verovio 6.4 dies computing the timemap of Baker's Buck (its repeats); pages survive."""
    before = renderer.worker_pid
    result = renderer.render(tune, timemap=True)
    assert result.ok and result.timemap is None
    assert result.pages[0].count('class="note"') == 75
    assert renderer.worker_pid != before
    assert renderer.render(tune).ok


def test_crash_is_an_error_and_the_next_render_works(renderer, tune):
    before = renderer.worker_pid
    crashed = renderer.render(STRAY_BRACKET)
    assert crashed.pages == []
    assert "crashed" in crashed.error and "signal 11" in crashed.error
    assert renderer.worker_pid != before
    assert not _alive(before)
    assert renderer.render(tune).ok


@pytest.mark.parametrize(
    ("abc", "expected"),
    [
        ("X:1\nT:No key\nM:4/4\nL:1/8\nABcd efga|\n", "no K:"),
        ("", "empty"),
        ("\x00\x01\x02\xff garbage ]]][[[\nK:\n]]|:[[", None),
        ("hello world", "no K:"),
        ('X:1\nK:G\n\x07\x1b[[[((("""]]]', None),
    ],
)
def test_bad_input_gives_an_error_result(renderer, tune, abc, expected):
    result = renderer.render(abc)
    assert isinstance(result, RenderResult)
    # An error result (a refusal, verovio's complaint or its crash), never an exception or a
    # page of garbage; and the next tune renders.
    assert result.pages == [] and result.error.strip()
    if expected is not None:
        assert expected in result.error
    assert renderer.render(tune).ok


def test_timeout_stops_the_worker_and_the_next_render_works(renderer, tune):
    before = renderer.worker_pid
    slow = renderer.render(tune, timeout=0.001)
    assert slow.pages == [] and "longer than 0.001 s" in slow.error
    assert renderer.worker_pid != before
    assert renderer.render(tune).ok


def test_render_svg_once(tune):
    result = render_svg_once(tune, scale=30)
    assert result.ok and 'class="note"' in result.pages[0]
    assert "crashed" in render_svg_once(STRAY_BRACKET).error


def test_close_ends_the_workers(tune):
    r = ScoreRenderer()
    assert r.render(tune).ok
    pids = r.pids
    assert len(pids) == 2
    r.close()
    assert not any(map(_alive, pids))
    assert "closed" in r.render(tune).error
    r.close()  # twice is fine


def test_close_from_another_thread_mid_render(tune):
    """The GUI closes the renderer at exit while a worker thread may be rendering."""
    r = ScoreRenderer()
    assert r.render(tune).ok
    pids = r.pids
    long_tune = tune + ("\n" + tune.split("K:G\n", 1)[1]) * 30
    results: list[RenderResult] = []
    thread = threading.Thread(target=lambda: results.append(r.render(long_tune)))
    thread.start()
    # Close once the render holds the renderer (sent to the worker, waiting for the pages).
    deadline = time.monotonic() + 10
    while not r._lock.locked() and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.001)
    r.close()
    thread.join(10)
    assert not thread.is_alive()
    (result,) = results
    assert result.ok or "closed" in result.error
    assert not any(map(_alive, pids)) and r.pids == []


def test_worker_exits_when_the_parent_is_killed(tmp_path):
    """No orphans: the worker sees its pipe close when its parent dies of SIGKILL."""
    script = textwrap.dedent(
        """
        import os, signal, sys
        from workbench.notation.render import ScoreRenderer
        if __name__ == "__main__":
            r = ScoreRenderer()
            assert r.render("X:1\\nL:1/8\\nK:G\\nGABc|\\n").ok
            assert r.render("X:1\\nL:1/8\\nK:D\\nDEFG|\\n").ok
            print(*r.pids, flush=True)
            os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    path = tmp_path / "parent.py"
    path.write_text(script)
    done = subprocess.run(
        [sys.executable, str(path)], capture_output=True, text=True, timeout=60, cwd=os.getcwd()
    )
    assert done.returncode == -9, done.stderr
    workers = [int(pid) for pid in done.stdout.split()]
    assert len(workers) == 2  # the worker and its standby
    deadline = time.monotonic() + 10
    while any(map(_alive, workers)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(map(_alive, workers))


def test_qtsvg_draws_the_repaired_page_and_not_the_raw_one(tune, request):
    """QSvgRenderer draws the repaired SVG (title and staves); verovio's own SVG blank."""
    pytest.importorskip("PySide6.QtSvg")
    request.getfixturevalue("qapp")  # pytest-qt's QApplication (skipped with PySide6 absent)
    import numpy as np
    import verovio
    from PySide6.QtCore import QByteArray
    from PySide6.QtGui import QColor, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    def dark_rows(svg: str) -> np.ndarray:
        renderer = QSvgRenderer(QByteArray(svg.encode("utf-8")))
        assert renderer.isValid()
        image = QImage(renderer.defaultSize(), QImage.Format.Format_ARGB32)
        image.fill(QColor("white"))
        painter = QPainter(image)
        renderer.render(painter)
        painter.end()
        bits = np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), -1, 4)
        return (bits[..., :3].mean(axis=-1) < 128).sum(axis=1)  # dark pixels per row

    rows = dark_rows(render_svg_once(tune).pages[0])
    height = len(rows)
    assert rows[: height // 40].sum() > 100  # the title at the top of the page
    assert rows[height // 40 : height // 4].sum() > 5000  # the staves
    assert rows[height // 2 :].sum() == 0  # a short tune: the rest of the page is empty

    # The raw SVG (verovio in this process is safe on a well-formed tune) draws nothing.
    verovio.enableLog(verovio.LOG_OFF)
    toolkit = verovio.toolkit()
    toolkit.loadData(tune)
    assert dark_rows(toolkit.renderToSVG(1)).sum() == 0
