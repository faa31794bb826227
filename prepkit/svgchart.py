"""Small dependency-free SVG charts for report.html: horizontal bars, grouped horizontal bars, histogram grids.

Why not a plotting library: importing and running matplotlib cost ~1 s per report, which dominated an
incremental re-run where everything else is cached. These charts need only rects, lines and text.

Output rules, relied on by the report and its tests:
- one `<svg role="img" aria-label=... class="chart" viewBox=...>` element: no scripts, no ids, no external
  references, so any number of charts can share a page;
- every piece of text goes through `esc` (labels come from policy reasons and entity types: untrusted), which
  also replaces characters XML forbids, so each chart parses as XML on its own;
- deterministic: coordinates are rounded and formatted the same way every time, so equal input gives equal bytes;
- empty or all-zero data draws an empty panel; there is no division by zero.
Text widths are estimated from character classes (no font metrics without a renderer), erring wide.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Sequence
from typing import NamedTuple

FONT = "system-ui,-apple-system,'Segoe UI',Roboto,'DejaVu Sans',Arial,sans-serif"
FG, MUTED, AXIS, GRID = "#1f2933", "#616e7c", "#9aa5b1", "#e4e7eb"
# characters XML 1.0 forbids (controls, lone surrogates, U+FFFE/FFFF): one would make the chart unparseable
_XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_WS = re.compile(r"\s+")
_NARROW = frozenset("iljtfr.,:;'|!()[] -")


def esc(s: object) -> str:
    """Text safe inside an SVG/HTML element or a double-quoted attribute; whitespace runs become one space."""
    return html.escape(_WS.sub(" ", _XML_BAD.sub("\ufffd", str(s))), quote=True)


def _char_em(ch: str) -> float:
    # widths of DejaVu Sans (the widest common fallback) rounded up, so estimates err wide
    if ch in _NARROW:
        return 0.4
    if ch in "mwMW@%":
        return 1.0
    if ch.isupper() or ch == "_":
        return 0.76
    return 0.65


def text_width(s: str, size: float) -> float:
    """Approximate rendered width in px of `s` at font size `size` in a sans-serif face."""
    return sum(_char_em(ch) for ch in s) * size


def fit(s: str, max_width: float, size: float) -> str:
    """`s` cut with "..." so that it is at most `max_width` px wide (one pass: labels may be long)."""
    if text_width(s, size) <= max_width:
        return s
    budget, used = max_width - text_width("...", size), 0.0
    for i, ch in enumerate(s):
        used += _char_em(ch) * size
        if used > budget:
            return s[:i].rstrip() + "..."
    return s


def fmt_value(v: float) -> str:
    """A count as a reader expects it: no exponent, no trailing ".0"."""
    if not math.isfinite(v):
        return "n/a"
    return str(int(v)) if float(v).is_integer() else f"{v:.3g}"


def _n(x: float) -> str:
    s = f"{x:.1f}".rstrip("0").rstrip(".")
    return "0" if s == "-0" else s


def _finite(v: float) -> float:
    return float(v) if math.isfinite(v) else 0.0


def nice_ticks(hi: float, target: int = 4) -> list[float]:
    """Evenly spaced ticks 0..>=hi with a 1/2/5 x 10^k step of at least 1 (the charts show counts)."""
    if hi <= 0:
        return [0.0, 1.0]
    raw = hi / target
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 5, 10) if m * mag >= raw)
    step = max(step, 1.0)
    return [k * step for k in range(math.ceil(hi / step - 1e-9) + 1)]


class Canvas:
    """Collects SVG elements; `render` wraps them in the root element with a viewBox."""

    def __init__(self, width: float) -> None:
        self.width = width
        self.parts: list[str] = []

    def rect(self, x: float, y: float, w: float, h: float, fill: str, cls: str = "", tip: str = "") -> None:
        attrs = f' class="{esc(cls)}"' if cls else ""
        geo = f'x="{_n(x)}" y="{_n(y)}" width="{_n(max(w, 0))}" height="{_n(max(h, 0))}" fill="{esc(fill)}"'
        self.parts.append(f"<rect{attrs} {geo}><title>{esc(tip)}</title></rect>" if tip
                          else f"<rect{attrs} {geo}/>")

    def line(self, x1: float, y1: float, x2: float, y2: float, stroke: str = AXIS) -> None:
        self.parts.append(f'<line x1="{_n(x1)}" y1="{_n(y1)}" x2="{_n(x2)}" y2="{_n(y2)}" stroke="{esc(stroke)}"/>')

    def text(self, x: float, y: float, s: str, size: float = 11, anchor: str = "start", fill: str = FG,
             bold: bool = False) -> None:
        extra = (f' text-anchor="{anchor}"' if anchor != "start" else "") + (' font-weight="600"' if bold else "")
        fill_attr = f' fill="{esc(fill)}"' if fill != FG else ""
        self.parts.append(f'<text x="{_n(x)}" y="{_n(y)}" font-size="{_n(size)}"{extra}{fill_attr}>'
                          f"{esc(s)}</text>")

    def render(self, height: float, aria_label: str) -> str:
        w, h = _n(self.width), _n(height)
        return (f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{esc(aria_label)}" class="chart" '
                f'width="{w}" height="{h}" viewBox="0 0 {w} {h}" font-family="{esc(FONT)}" fill="{FG}">'
                f'<rect width="{w}" height="{h}" fill="#fff"/>{"".join(self.parts)}</svg>')


class Series(NamedTuple):
    """One bar per category in a grouped chart; `label_zero` also prints "0" at empty bars."""

    name: str
    values: Sequence[float]
    color: str
    label_zero: bool = False


_ROW, _BAR = 24.0, 16.0  # px per category row and bar thickness of single-series bars
_LABEL, _VALUE, _TITLE = 11.0, 10.0, 13.0  # font sizes


def _title(c: Canvas, x: float, y: float, width: float, title: str) -> float:
    c.text(x, y + _TITLE, fit(title, width, _TITLE), size=_TITLE, bold=True)
    return y + _TITLE + 10


def _label_column(labels: Sequence[str], width: float) -> tuple[list[str], float]:
    shown = [fit(label, width * 0.5, _LABEL) for label in labels]
    return shown, max((text_width(s, _LABEL) for s in shown), default=0.0) + 8


def _x_axis(c: Canvas, x: float, y: float, plot_w: float, ticks: Sequence[float], xlabel: str) -> float:
    """Baseline, tick labels and axis label under a plot of height ending at `y`; returns the new bottom."""
    c.line(x, y, x + plot_w, y)
    for t in ticks:
        tx = x + plot_w * t / ticks[-1]
        c.line(tx, y, tx, y + 3)
        c.text(tx, y + 14, fmt_value(t), size=9, anchor="middle", fill=MUTED)
    y += 18
    if xlabel:
        c.text(x + plot_w / 2, y + 10, xlabel, size=10, anchor="middle", fill=MUTED)
        y += 14
    return y


def _grid(c: Canvas, x: float, y0: float, y1: float, plot_w: float, ticks: Sequence[float]) -> None:
    for t in ticks[1:]:
        tx = x + plot_w * t / ticks[-1]
        c.line(tx, y0, tx, y1, GRID)


def _no_data(c: Canvas, x: float, y: float) -> float:
    c.text(x, y + 12, "none recorded", size=_LABEL, fill=MUTED)
    return y + 22


def barh_panel(c: Canvas, x: float, y: float, width: float, title: str, labels: Sequence[str],
               values: Sequence[float], colors: Sequence[str] | str, xlabel: str = "") -> float:
    """Horizontal bars, first category on top, value at each bar's end; returns the y below the panel."""
    y = _title(c, x, y, width, title)
    if not labels:
        return _no_data(c, x, y)
    shown, label_w = _label_column(labels, width)
    vals = [_finite(v) for v in values]
    ticks = nice_ticks(max(vals, default=0.0))
    value_w = max(text_width(fmt_value(v), _VALUE) for v in vals) + 10
    px, pw = x + label_w, max(width - label_w - value_w, 20.0)
    fills = [colors] * len(vals) if isinstance(colors, str) else list(colors)
    _grid(c, px, y, y + _ROW * len(vals), pw, ticks)
    for i, (full, label, v, fill) in enumerate(zip(labels, shown, vals, fills, strict=True)):
        top = y + i * _ROW
        bar_w = pw * max(v, 0.0) / ticks[-1]
        c.rect(px, top + (_ROW - _BAR) / 2, bar_w, _BAR, fill, cls="bar", tip=f"{full}: {fmt_value(v)}")
        c.text(px - 6, top + _ROW / 2 + 4, label, size=_LABEL, anchor="end")
        c.text(px + bar_w + 4, top + _ROW / 2 + 3.5, fmt_value(v), size=_VALUE)
    y += _ROW * len(vals)
    c.line(px, y - _ROW * len(vals), px, y)
    return _x_axis(c, px, y, pw, ticks, xlabel)


def _legend(c: Canvas, x: float, y: float, width: float, series: Sequence[Series]) -> float:
    lx = x
    for s in series:
        item_w = 18 + text_width(s.name, 10) + 16
        if lx > x and lx + item_w > x + width:
            lx, y = x, y + 16
        c.rect(lx, y + 1, 12, 10, s.color, cls="key")
        c.text(lx + 17, y + 10, s.name, size=10)
        lx += item_w
    return y + 20


def grouped_barh_panel(c: Canvas, x: float, y: float, width: float, title: str, labels: Sequence[str],
                       series: Sequence[Series], xlabel: str = "") -> float:
    """One row per category holding one thin bar per series, with a legend; returns the y below the panel."""
    y = _title(c, x, y, width, title)
    y = _legend(c, x, y, width, series)
    if not labels or not series:
        return _no_data(c, x, y)
    shown, label_w = _label_column(labels, width)
    vals = [[_finite(v) for v in s.values] for s in series]
    ticks = nice_ticks(max((v for vs in vals for v in vs), default=0.0))
    value_w = max(text_width(fmt_value(v), _VALUE) for vs in vals for v in vs) + 10
    px, pw = x + label_w, max(width - label_w - value_w, 20.0)
    bar = 11.0
    row = bar * len(series) + 8
    _grid(c, px, y, y + row * len(labels), pw, ticks)
    for i, (full, label) in enumerate(zip(labels, shown, strict=True)):
        top = y + i * row + 4
        c.text(px - 6, top + bar * len(series) / 2 + 4, label, size=_LABEL, anchor="end")
        for j, s in enumerate(series):
            v = vals[j][i]
            bar_w = pw * max(v, 0.0) / ticks[-1]
            by = top + j * bar
            c.rect(px, by, bar_w, bar - 1, s.color, cls="bar", tip=f"{full}, {s.name}: {fmt_value(v)}")
            if v or s.label_zero:
                c.text(px + bar_w + 4, by + bar - 2.5, fmt_value(v), size=9, fill=s.color)
    y += row * len(labels)
    c.line(px, y - row * len(labels), px, y)
    return _x_axis(c, px, y, pw, ticks, xlabel)


class Histogram(NamedTuple):
    """One panel: bins given by left edge and width on the 0..1 axis, with their counts."""

    title: str
    lefts: Sequence[float]
    widths: Sequence[float]
    counts: Sequence[float]


_PANEL_W, _PANEL_H, _GAP = 176.0, 128.0, 18.0


def _histogram_panel(c: Canvas, x: float, y: float, h: Histogram, color: str) -> None:
    px, py = x + 30, y + 20
    pw, ph = _PANEL_W - 38, _PANEL_H - 20 - 20
    c.text(px + pw / 2, y + 11, fit(h.title, _PANEL_W - 8, 10), size=10, anchor="middle")
    counts = [max(_finite(n), 0.0) for n in h.counts]
    ticks = nice_ticks(max(counts, default=0.0), target=3)
    for t in ticks:
        ty = py + ph - ph * t / ticks[-1]
        if t:
            c.line(px, ty, px + pw, ty, GRID)
        c.text(px - 4, ty + 3, fmt_value(t), size=8, anchor="end", fill=MUTED)
    for left, w, n in zip(h.lefts, h.widths, counts, strict=True):
        lo, hi = max(_finite(left), 0.0), min(_finite(left) + _finite(w) * 0.95, 1.0)
        if n <= 0 or hi <= lo:  # outside the 0..1 axis, or empty: nothing to draw
            continue
        bh = ph * n / ticks[-1]
        c.rect(px + pw * lo, py + ph - bh, pw * (hi - lo), bh, color, cls="bar",
               tip=f"{fmt_value(left)}-{fmt_value(left + w)}: {fmt_value(n)}")
    c.line(px, py, px, py + ph)
    c.line(px, py + ph, px + pw, py + ph)
    for t in (0.0, 0.25, 0.5, 0.75, 1.0):
        tx = px + pw * t
        c.line(tx, py + ph, tx, py + ph + 3)
        if t in (0.0, 0.5, 1.0):
            c.text(tx, py + ph + 13, fmt_value(t), size=8, anchor="middle", fill=MUTED)


def histogram_grid(title: str, panels: Sequence[Histogram], color: str, aria_label: str, cols: int = 4) -> str:
    """Small multiples, `cols` per row, each with its own count axis and a shared 0..1 score axis."""
    cols = max(1, min(cols, len(panels)))
    rows = math.ceil(len(panels) / cols)
    c = Canvas(max(cols * _PANEL_W + (cols - 1) * _GAP + 8, 320.0))
    y = _title(c, 4, 4, c.width - 8, title)
    if not panels:
        return c.render(_no_data(c, 4, y) + 4, aria_label)
    for i, h in enumerate(panels):
        r, k = divmod(i, cols)
        _histogram_panel(c, 4 + k * (_PANEL_W + _GAP), y + r * (_PANEL_H + _GAP), h, color)
    return c.render(y + rows * (_PANEL_H + _GAP) - _GAP + 6, aria_label)


def bar_chart(title: str, labels: Sequence[str], values: Sequence[float], colors: Sequence[str] | str,
              aria_label: str, xlabel: str = "", width: float = 560) -> str:
    c = Canvas(width)
    return c.render(barh_panel(c, 4, 4, width - 8, title, labels, values, colors, xlabel) + 4, aria_label)


def grouped_bar_chart(title: str, labels: Sequence[str], series: Sequence[Series], aria_label: str,
                      xlabel: str = "", width: float = 720) -> str:
    c = Canvas(width)
    return c.render(grouped_barh_panel(c, 4, 4, width - 8, title, labels, series, xlabel) + 4, aria_label)


class BarPanel(NamedTuple):
    """One of several bar panels drawn side by side in one chart."""

    title: str
    labels: Sequence[str]
    values: Sequence[float]
    colors: Sequence[str] | str
    xlabel: str = ""


def bar_charts_side_by_side(panels: Sequence[BarPanel], aria_label: str, panel_width: float = 390,
                            gap: float = 28) -> str:
    c = Canvas(max(len(panels), 1) * (panel_width + gap) - gap + 8)
    bottom = 4.0
    for i, p in enumerate(panels):
        bottom = max(bottom, barh_panel(c, 4 + i * (panel_width + gap), 4, panel_width, p.title, p.labels,
                                        p.values, p.colors, p.xlabel))
    return c.render(bottom + 4, aria_label)
