"""Console tables split into parts of columns that fit the terminal, each part led by the
row names: rich drops the columns beyond the terminal's edge, or folds every cell into a
column a few characters wide, when a table is wider than the terminal (used by compare's
and zones' console tables)."""

from __future__ import annotations

from typing import Any


def fits(table: Any, width: int) -> bool:
    """Whether rich draws ``table`` within ``width`` characters (rendered, not estimated:
    rich may draw a column wider than its narrowest words, and then crops the table)."""
    import io

    from rich.console import Console

    con = Console(width=width, file=io.StringIO(), record=True, color_system=None)
    con.print(table)
    lines = [line.rstrip() for line in con.export_text().splitlines()]
    top = next((line for line in lines if line.startswith("┏")), "")
    return top.endswith("┓") and max((len(line) for line in lines), default=0) <= width  # cropped: no corner


def column_parts(n_cols: int, width: int | None, make: Any) -> list[list[int]]:
    """The columns of a table in groups that rich draws within ``width`` characters (each
    group starts with column 0, the row names; ``make(cols)`` builds the table of a group):
    rich drops the columns beyond the terminal's edge when they do not fit (an 80-column log
    lost a whole plan, and a figure was cut to '(25,000'; decision audit). One group when
    they fit or ``width`` is None."""
    every = list(range(n_cols))
    if width is None or n_cols <= 2 or fits(make(every), width):
        return [every]
    parts: list[list[int]] = []
    cur = [0]
    for i in range(1, n_cols):
        if len(cur) > 1 and not fits(make([*cur, i]), width):
            parts.append(cur)
            cur = [0]
        cur.append(i)
    parts.append(cur)
    return parts


def split_table(title: str, head: list[str], body: list[list[str]], width: int | None,
                left: tuple[int, ...] = (0,)) -> list[Any]:
    """A rich table of ``head`` and ``body`` (cells as text) as the parts that fit ``width``
    characters (:func:`column_parts`), each titled ``title`` and, where there are several,
    "(1 of 2: the columns that fit the terminal)"; numbers are never cut (a column is at
    least as wide as its widest word), and the columns in ``left`` are left-justified."""
    from rich.table import Table

    widest = [max([len(w) for row in body for w in row[i].split()] + [len(w) for w in c.split()] or [1])
              for i, c in enumerate(head)]

    def table(cols: list[int], text: str) -> Any:
        t = Table(title=text, title_justify="left")
        for i in cols:
            t.add_column(head[i], justify="left" if i in left else "right", overflow="fold", min_width=widest[i])
        for row in body:
            t.add_row(*[row[i] for i in cols])
        return t

    parts = column_parts(len(head), width, lambda cols: table(cols, ""))
    return [table(cols, title + ("" if len(parts) == 1 else f" ({k + 1} of {len(parts)}: the columns that fit "
                                                              "the terminal)"))
            for k, cols in enumerate(parts)]
