"""Box tables for the terminal: what users look at after a run or a query."""

from __future__ import annotations

from collections.abc import Sequence

# A row that is this value draws a rule across the table instead of cells.
SECTION_BREAK = None


def box_table(headers: Sequence[str], rows: Sequence[Sequence[str] | None],
              right_aligned: frozenset[int] = frozenset()) -> str:
    """Render ``rows`` (cells already formatted as text) under ``headers``.

    Columns whose index is in ``right_aligned`` (numbers) are aligned right; a row that is
    SECTION_BREAK becomes a horizontal rule.
    """
    cell_rows = [row for row in rows if row is not SECTION_BREAK]
    widths = [max(len(str(row[i])) for row in [headers, *cell_rows]) for i in range(len(headers))]

    def line(cells: Sequence[str]) -> str:
        parts = [str(cell).rjust(width) if i in right_aligned else str(cell).ljust(width)
                 for i, (cell, width) in enumerate(zip(cells, widths))]
        return "│ " + " │ ".join(parts) + " │"

    def rule(left: str, middle: str, right: str) -> str:
        return left + middle.join("─" * (width + 2) for width in widths) + right

    body = [rule("├", "┼", "┤") if row is SECTION_BREAK else line(row) for row in rows]
    return "\n".join([rule("┌", "┬", "┐"), line(headers), rule("├", "┼", "┤"), *body,
                      rule("└", "┴", "┘")])
