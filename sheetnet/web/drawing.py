"""The network drawn as SVG: a column of neurons per layer, every connection a line."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

WIDTH, HEIGHT, R = 420, 220, 14


def network_svg(sizes: Sequence[int], activations: Sequence[str]) -> str:
    """An inline <svg>: layer l's neurons at equal heights, labelled by the activation below."""
    shown = [min(n, 8) for n in sizes]  # a wide layer shows 8 neurons and says how many
    xs = [40 + i * (WIDTH - 80) / max(len(sizes) - 1, 1) for i in range(len(sizes))]
    ys = [[(j + 1) * (HEIGHT - 40) / (n + 1) for j in range(n)] for n in shown]
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
             f'aria-label="network {"-".join(map(str, sizes))}" class="net">']
    for i in range(len(sizes) - 1):
        for y0 in ys[i]:
            parts += [f'<line x1="{xs[i]:.1f}" y1="{y0:.1f}" x2="{xs[i + 1]:.1f}" y2="{y1:.1f}"/>'
                      for y1 in ys[i + 1]]
    for i, column in enumerate(ys):
        fill = "#dbe9f6" if i == 0 else "#fde9c9" if i == len(ys) - 1 else "#e2f0d9"
        parts += [f'<circle cx="{xs[i]:.1f}" cy="{y:.1f}" r="{R}" fill="{fill}"/>' for y in column]
        act = activations[min(i - 1, len(activations) - 1)] if i and activations else ""
        label = f"{sizes[i]} {act}".strip()
        parts.append(f'<text x="{xs[i]:.1f}" y="{HEIGHT - 10}" text-anchor="middle">{escape(label)}</text>')
    parts.append("</svg>")
    return "".join(parts)
