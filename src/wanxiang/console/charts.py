"""Charts drawn on the server as SVG markup: no chart library, nothing for the browser to run.

Every string that reaches the markup is a number or a fixed word, so nothing needs escaping.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape


def bar_chart(ok: Sequence[int], failed: Sequence[int], *, slot_minutes: int, width: int = 360, height: int = 90) -> Markup:
    """Stacked bars per time slot, oldest first: successes (green) under failures (red)."""
    slots = max(len(ok), 1)
    top = max([a + b for a, b in zip(ok, failed, strict=True)] + [1])
    bar_w = width / slots
    plot_h = height - 16
    parts = [f'<svg class="chart" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
             f'aria-label="jobs finished per {slot_minutes} minutes">']
    for i, (a, b) in enumerate(zip(ok, failed, strict=True)):
        x = i * bar_w + 2
        h_ok = plot_h * a / top
        h_bad = plot_h * b / top
        parts.append(f'<rect class="ok" x="{x:.1f}" y="{plot_h - h_ok:.1f}" width="{bar_w - 4:.1f}" height="{h_ok:.1f}">'
                     f"<title>{a} succeeded</title></rect>")
        parts.append(f'<rect class="bad" x="{x:.1f}" y="{plot_h - h_ok - h_bad:.1f}" width="{bar_w - 4:.1f}" '
                     f'height="{h_bad:.1f}"><title>{b} failed</title></rect>')
    parts.append(f'<line x1="0" y1="{plot_h}" x2="{width}" y2="{plot_h}" class="axis"/>')
    parts.append(f'<text x="0" y="{height - 2}" class="label">-{slots * slot_minutes} min</text>')
    parts.append(f'<text x="{width}" y="{height - 2}" class="label" text-anchor="end">now (max {top})</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


@dataclass(frozen=True)
class Box:
    name: str
    kind: str
    x: int
    y: int


def workflow_graph(deps: Mapping[str, Sequence[str]], kinds: Mapping[str, str], states: Mapping[str, str] | None = None) -> Markup:
    """The node graph, one column per depth from Start, arrows along Dependencies. Node names
    come from users, so they are escaped."""
    depth: dict[str, int] = {"Start": 0}
    frontier = ["Start"]
    while frontier:
        following: list[str] = []
        for name in frontier:
            for target in deps.get(name, []):
                if depth.get(target, -1) < depth[name] + 1 and depth[name] < 50:
                    depth[target] = depth[name] + 1
                    following.append(target)
        frontier = following
    columns: dict[int, list[str]] = {}
    for name, d in sorted(depth.items(), key=lambda item: (item[1], item[0])):
        columns.setdefault(d, []).append(name)
    box_w, box_h, gap_x, gap_y = 200, 44, 50, 24
    boxes = {name: Box(name, kinds.get(name, name), 10 + d * (box_w + gap_x), 10 + i * (box_h + gap_y))
             for d, names in columns.items() for i, name in enumerate(names)}
    width = 20 + (max(columns) + 1) * (box_w + gap_x) if columns else 200
    height = 20 + max(len(n) for n in columns.values()) * (box_h + gap_y) if columns else 80
    parts = [f'<svg class="graph" viewBox="0 0 {width} {height}" width="{width}" height="{height}">',
             '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" '
             'orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" class="arrowhead"/></marker></defs>']
    for source, targets in deps.items():
        for target in targets:
            a, b = boxes.get(source), boxes.get(target)
            if a and b:
                parts.append(f'<line class="edge" x1="{a.x + box_w}" y1="{a.y + box_h // 2}" x2="{b.x}" '
                             f'y2="{b.y + box_h // 2}" marker-end="url(#arrow)"/>')
    for box in boxes.values():
        state = (states or {}).get(box.name, "")
        parts.append(f'<g class="node {escape(state.lower())}"><rect x="{box.x}" y="{box.y}" width="{box_w}" '
                     f'height="{box_h}" rx="6"/>')
        parts.append(f'<text x="{box.x + 8}" y="{box.y + 18}" class="name">{escape(box.name[:30])}</text>')
        label = box.kind + (f" · {state}" if state else "")
        parts.append(f'<text x="{box.x + 8}" y="{box.y + 35}" class="kind">{escape(label[:32])}</text></g>')
    parts.append("</svg>")
    return Markup("".join(parts))
