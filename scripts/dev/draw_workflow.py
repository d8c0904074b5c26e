"""Draw img/workflow.png, the picture of the pipeline, from scripts/lake/pipeline.py.

    python -m scripts.dev.draw_workflow [--out img/workflow.png]

Tables are boxes coloured by zone, placed in rows by source and in columns by how many jobs lie
between them and the landing zone; each arrow is a job reading a table to write another.
"""

from __future__ import annotations

import sys
from pathlib import Path

from scripts._cli.errors import OneLineArgumentParser
from scripts.lake import pipeline

ZONE_COLOURS = {"landing": "#f6d8ae", "trusted": "#b8d8f0", "curated": "#bfe3c0"}
SOURCE_ROWS = {source: row for row, source in enumerate(reversed(pipeline.SOURCES))}


def table_depths() -> dict[str, int]:
    """Landing tables at 0; each output one column right of its deepest input."""
    depths = {t.name: 0 for t in pipeline.landing_tables()}
    for job in pipeline.dependency_order():
        depths[job.output] = 1 + max(depths[name] for name in job.inputs)
    return depths


def table_positions() -> dict[str, tuple[float, float]]:
    depths = table_depths()
    return {t.name: (depths[t.name] * 3.3, SOURCE_ROWS[t.source] * 1.6) for t in pipeline.TABLES}


def draw(out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import FancyBboxPatch, Patch

    positions = table_positions()
    figure, axes = plt.subplots(figsize=(18, 5.4), dpi=110)
    box_width, box_height = 2.7, 0.62
    for job in pipeline.JOBS:
        end = positions[job.output]
        for number, name in enumerate(job.inputs):
            start = positions[name]
            axes.annotate("", xy=(end[0] - box_width / 2, end[1]),
                          xytext=(start[0] + box_width / 2, start[1]),
                          arrowprops={"arrowstyle": "-|>", "color": "#555555", "lw": 1.2,
                                      "connectionstyle": f"arc3,rad={0.12 * number}"})
        step = pipeline.JOBS.index(job) + 1
        axes.text(end[0], end[1] - box_height / 2 - 0.12, f"job {step}: {job.name}.py",
                  ha="center", va="top", fontsize=7.5, color="#333333", style="italic")
    for table in pipeline.TABLES:
        x, y = positions[table.name]
        axes.add_patch(FancyBboxPatch((x - box_width / 2, y - box_height / 2), box_width,
                                      box_height, boxstyle="round,pad=0.04",
                                      facecolor=ZONE_COLOURS[table.zone], edgecolor="#333333"))
        axes.text(x, y + 0.08, table.name, ha="center", va="center", fontsize=9, weight="bold")
        axes.text(x, y - 0.17, f"s3://BUCKET/{table.path}/", ha="center", va="center",
                  fontsize=6.5, family="monospace")
    for source, row in SOURCE_ROWS.items():
        axes.text(-1.6, row * 1.6, source, ha="right", va="center", fontsize=10, weight="bold")
    axes.legend(handles=[Patch(facecolor=c, edgecolor="#333333", label=z)
                         for z, c in ZONE_COLOURS.items()],
                loc="upper right", fontsize=8, title="zone")
    xs = [p[0] for p in positions.values()]
    axes.set_xlim(min(xs) - 3.0, max(xs) + 1.6)
    axes.set_ylim(-0.9, (len(SOURCE_ROWS) - 1) * 1.6 + 0.8)
    axes.set_axis_off()
    axes.set_title("STEDI lakehouse: five AWS Glue jobs from landing to curated", fontsize=12)
    out.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(out, bbox_inches="tight")
    plt.close(figure)


def main(argv: list[str] | None = None) -> int:
    parser = OneLineArgumentParser(prog="draw_workflow", description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("img/workflow.png"))
    args = parser.parse_args(argv)
    draw(args.out)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
