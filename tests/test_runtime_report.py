"""The runtime report people read, without running anything: sentences and
words for the fix's effect, cell-aware locations, plots that show the
verdict's own metric with thresholds and fitted slope (rendered and inspected
for content and bounds), the progress line, and the HTML report."""

from __future__ import annotations

import io

import pytest

from kmlint.findings import Finding
from kmlint.runtime import report
from kmlint.runtime.verdict import KiB, MiB, THRESHOLDS


def _slope_runtime(fixed_slope=2 * KiB, ran="your code", metric="rss_anon"):
    flagged = [100 * MiB + i * 60 * KiB for i in range(21)]
    fixed = [100 * MiB + i * fixed_slope for i in range(21)]
    return {
        "verdict": "confirmed", "ran": ran, "kind": "slope", "device": "CPU", "metric": metric,
        "flagged": {"status": "ok", "slope": 60 * KiB, "r2": 1.0, "iterations": 20, "series": {metric: flagged}},
        "fixed": {"status": "ok", "slope": fixed_slope, "r2": 0.9, "iterations": 20, "series": {metric: fixed},
                  "verdict": "not confirmed" if fixed_slope < 16 * KiB else "confirmed",
                  "variant": "autofix", "ran": ran},
        "ratio": 60 * KiB / max(fixed_slope, KiB), "thresholds": THRESHOLDS,
    }


def _peak_runtime(ran="your code"):
    return {
        "verdict": "confirmed", "ran": ran, "kind": "peak", "device": "CPU", "metric": "tf_current",
        "flagged": {"status": "ok", "compared": "held", "held_growth": 324_000_000, "peak_growth": 972_000_000,
                    "series": {"tf_current": [0, 324_000_000]},
                    "beside": {"metric": "rss_anon", "held_growth": 1300 * MiB}},
        "fixed": {"status": "ok", "compared": "held", "held_growth": 0, "peak_growth": 0, "verdict": "reference",
                  "series": {"tf_current": [0, 0]}, "beside": {"metric": "rss_anon", "held_growth": 1290 * MiB},
                  "variant": "autofix: del noise", "ran": ran},
        "ratio": 309.0, "thresholds": THRESHOLDS,
    }


def _finding(rt, code="KM203", path="loop.py", line=11, cell=None):
    f = Finding(code, "predict-in-loop" if code == "KM203" else "large-tensor-undeleted", "msg", path, line, 1,
                cell=cell)
    f.extra["runtime"] = rt
    return f


def test_fix_effect_is_said_in_words():
    assert report.fix_effect(_slope_runtime()) == "fix removes the growth"
    assert report.fix_effect(_slope_runtime(fixed_slope=3700 * KiB)) == "fix does NOT stop the growth"
    assert report.fix_effect(_peak_runtime()) == "fix frees 309.0 MiB"
    broken = dict(_slope_runtime(), fixed={"status": "error", "variant": "autofix"})
    assert "fixed variant failed" in report.fix_effect(broken)
    # no autofix (KM204 on a loop that trains): the fixed variant is the rule's advice, run as its scenario
    advised = _slope_runtime()
    advised["fixed"]["ran"] = "scenario"
    assert report.fix_effect(advised) == "advised fix (on the rule's scenario, not your code) removes the growth"
    advised["fixed"].update(slope=3700 * KiB, verdict="confirmed")
    assert report.fix_effect(advised) == "advised fix (on the rule's scenario, not your code) does NOT stop the growth"


def test_text_report_names_the_metric_and_never_says_not_confirmed_for_a_working_fix():
    text = report.render_runtime([_finding(_slope_runtime()), _finding(_peak_runtime(), "KM301", "feat.py", 8)])
    assert "(not confirmed)" not in text
    assert "fix removes the growth (30.0x less)" in text
    assert "tensor bytes" in text and "process memory" in text
    assert "confirmed on your code: held +309.0 MiB of TensorFlow tensor bytes; fix frees 309.0 MiB" in text
    assert "beside it, memory held by the process: flagged held +1.3 GiB, fixed held +1.3 GiB" in text


def test_scenario_only_says_your_code_was_not_run():
    rt = _slope_runtime(ran="scenario")
    text = report.render_runtime([_finding(rt, path="nb.ipynb", line=3, cell=4)])
    assert "scenario confirmed the pattern; your code was not run" in text
    assert "confirmed (pattern)" in text
    assert "KM203 nb.ipynb:cell 5:line 3" in text


def test_plot_names_keep_notebook_cells_apart():
    from kmlint.runtime.plots import plot_name

    a = _finding(_slope_runtime(), path="nb.ipynb", line=3, cell=1)
    b = _finding(_slope_runtime(), path="nb.ipynb", line=3, cell=6)
    assert plot_name(a) != plot_name(b) and "cell2" in plot_name(a)


def _pixels(path):
    pytest.importorskip("matplotlib")
    import matplotlib.image as mpimg

    return mpimg.imread(str(path))


def _has_color(img, hex_color, tolerance=0.08):
    import numpy as np

    rgb = [int(hex_color[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    return bool((np.abs(img[:, :, :3] - rgb).max(axis=2) < tolerance).any())


def _texts_inside(fig):
    """What is drawn outside the figure (would be clipped): the title, axis labels, legend, tick labels."""
    renderer = fig.canvas.get_renderer()
    fig.draw(renderer)
    box = fig.bbox
    outside = []
    ax = fig.axes[0]
    artists = [ax.title, ax._left_title, ax.xaxis.label, ax.yaxis.label, ax.get_legend()]
    # tick labels: the ones drawn (inside the view) count through the tight bounding box below
    for artist in artists:
        if artist is None or not artist.get_visible() or (hasattr(artist, "get_text") and not artist.get_text()):
            continue
        ext = artist.get_window_extent(renderer)
        if ext.x0 < box.x0 - 1 or ext.y0 < box.y0 - 1 or ext.x1 > box.x1 + 1 or ext.y1 > box.y1 + 1:
            outside.append(getattr(artist, "get_text", lambda: "legend")())
    tight = fig.get_tightbbox(renderer)
    if tight.x0 < -0.01 or tight.y0 < -0.01 or tight.x1 > fig.get_figwidth() + 0.01 or tight.y1 > fig.get_figheight() + 0.01:
        outside.append(f"tight bbox {tight}")
    return outside


def test_slope_plot_shows_the_metric_the_fit_and_the_threshold_unclipped(tmp_path):
    pytest.importorskip("matplotlib")
    import numpy as np

    from kmlint.runtime.plots import FIXED_COLOR, FLAGGED_COLOR, figure, write_plots

    f = _finding(_slope_runtime())
    fig = figure(f)
    ax = fig.axes[0]
    assert ax.get_ylabel().startswith("memory held by the process (MiB)")
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "flagged: +60.0 KiB/iter" in labels and "flagged: fitted slope" in labels
    assert any(label.startswith("confirmed from +32.0 KiB/iter".replace("+", "")) or "32.0 KiB/iter" in label
               for label in labels)
    # the fitted line has the measured slope: 60 KiB/iter, in MiB per iteration
    fitted = [line for line in ax.get_lines() if line.get_label() == "flagged: fitted slope"][0]
    xs, ys = fitted.get_data()
    assert (ys[1] - ys[0]) / (xs[1] - xs[0]) == pytest.approx(60 / 1024)
    assert _texts_inside(fig) == []
    [path] = write_plots([f], tmp_path)
    img = _pixels(path)
    assert _has_color(img, FLAGGED_COLOR) and _has_color(img, FIXED_COLOR)
    border = np.concatenate([img[0, :, :3], img[-1, :, :3], img[:, 0, :3], img[:, -1, :3]])
    assert border.min() > 0.9, "something touches the image's edge: clipped"


def test_peak_plot_is_a_bar_chart_of_the_verdicts_metric(tmp_path):
    pytest.importorskip("matplotlib")
    from kmlint.runtime.plots import FLAGGED_COLOR, figure, write_plots

    f = _finding(_peak_runtime(), "KM301", "features.py", 8)
    fig = figure(f)
    ax = fig.axes[0]
    assert ax.get_ylabel().startswith("TensorFlow tensor bytes (MiB)")
    bars = [p for p in ax.patches if p.get_height() > 0]
    assert len(bars) == 1 and bars[0].get_height() == pytest.approx(324_000_000 / MiB)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["flagged", "fixed variant"]
    assert "confirmed above" in ax.get_legend().get_texts()[0].get_text()
    assert _texts_inside(fig) == []
    [path] = write_plots([f], tmp_path)
    assert _has_color(_pixels(path), FLAGGED_COLOR)


class _Tty(io.StringIO):
    def isatty(self):
        return True


def test_progress_is_a_live_line_on_a_terminal_and_plain_lines_elsewhere():
    from kmlint.runtime.confirm import Progress
    from kmlint.runtime.verdict import Measurement

    tty = _Tty()
    live = Progress(tty)
    live.add(2)
    live.start_live()
    live.begun("KM203 a.py:3 flagged")
    import time

    time.sleep(0.7)  # the line is redrawn before anything finished
    assert "running: KM203 a.py:3 flagged" in tty.getvalue() and "\r" in tty.getvalue()
    live.finished("KM203 a.py:3 flagged", Measurement("ok", wall_s=1.0))
    live.stop_live()
    assert tty.getvalue().endswith("\n") and "1/2" in tty.getvalue()

    plain = io.StringIO()
    log = Progress(plain)
    log.add(1)
    log.start_live()
    log.finished("KM203 a.py:3 flagged", Measurement("ok", wall_s=1.0))
    log.stop_live()
    assert "\r" not in plain.getvalue()
    assert plain.getvalue() == "kmlint runtime: [####################] 1/1 KM203 a.py:3 flagged: measured (1.0 s)\n"


# ----------------------------------------------------------------- HTML report in a real browser

def _chromium():
    import shutil

    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        found = shutil.which(name)
        if found:
            return found
    pytest.skip("no headless Chromium here (Debian: apt-get install chromium)")


def _browser(*args, timeout=120):
    import subprocess

    cmd = [_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
           "--hide-scrollbars", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)


def test_html_report_opens_in_a_headless_browser_with_table_plots_and_code(tmp_path):
    pytest.importorskip("matplotlib")
    import numpy as np

    from kmlint.runtime.html import Entry, write_html

    slope = _finding(_slope_runtime())
    tensor = _finding(_peak_runtime(), "KM301", "features.py", 8)
    tensor.extra["runtime"]["summary"] = report.summary(tensor.extra["runtime"])
    code = "noise = tf.random.normal((9000, 9000))\n__kmlint_probe__.checkpoint(globals().get('noise'))\nmodel.fit(x)\n"
    page = write_html(tmp_path / "report.html", [
        Entry(slope, "for b in batches:\n    __kmlint_probe__.tick()\n    model.predict(b)\n", "your code, as written",
              "for b in batches:\n    model.predict_on_batch(b)\n", "your code, autofix"),
        Entry(tensor, code, "your code, as written (instrumented)"),
    ])
    dom = _browser("--dump-dom", page.as_uri())
    assert dom.returncode == 0, dom.stderr[-2000:]
    html = dom.stdout
    # the table, one row per finding, with the metric and the fix's effect in words
    assert html.count("<tr>") == 3 and "effect of the fix" in html
    assert "fix removes the growth (30.0x less)" in html and "tensor bytes" in html
    assert "confirmed on your code: held +309.0 MiB of TensorFlow tensor bytes; fix frees 309.0 MiB" in html
    # the plots are embedded and the code that ran is shown
    assert html.count("data:image/png;base64,") == 2
    assert "tf.random.normal((9000, 9000))" in html and "__kmlint_probe__.tick()" in html
    shot = tmp_path / "shot.png"
    taken = _browser(f"--screenshot={shot}", "--window-size=1280,2400", page.as_uri())
    assert taken.returncode == 0 and shot.exists(), taken.stderr[-2000:]
    img = _pixels(shot)
    # the page rendered: text (dark pixels), the plots' red bars/lines, and not a blank page
    assert (img[:, :, :3].mean(axis=2) < 0.3).mean() > 0.005
    from kmlint.runtime.plots import FLAGGED_COLOR

    assert _has_color(img, FLAGGED_COLOR, tolerance=0.1)
    assert np.unique(img.reshape(-1, img.shape[2]), axis=0).shape[0] > 50
