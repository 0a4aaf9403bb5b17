"""Jupyter notebooks as one Python module.

Code cells are joined in cell order so names flow across cells like in the
kernel.  IPython syntax is neutralised without moving any code: a line magic or
shell escape (``%time``, ``!pip``) becomes a comment of the same length, a cell
magic comments out the whole cell, and ``obj?`` help lines are commented.
A line table maps module lines back to (cell index, line in cell).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Optional


class NotebookError(ValueError):
    def __init__(self, message: str, line: int = 1, column: int = 1):
        super().__init__(message)
        self.line = line
        self.column = column


@dataclass
class NotebookSource:
    source: str
    # module line (1-based) -> (cell index into nb["cells"], 1-based line in cell)
    line_map: list[tuple[int, int]] = field(default_factory=list)
    cell_sources: dict[int, str] = field(default_factory=dict)  # raw code cell text by cell index
    data: Optional[dict] = None

    def to_cell(self, line: int) -> tuple[Optional[int], int]:
        if 1 <= line <= len(self.line_map):
            return self.line_map[line - 1]
        if self.line_map:
            cell, cell_line = self.line_map[-1]
            return cell, cell_line + (line - len(self.line_map))
        return None, line


def _neutralise(line: str) -> str:
    stripped = line.lstrip()
    indent = line[: len(line) - len(stripped)]
    if stripped.startswith(("%", "!")):
        return indent + "#" + stripped[1:]
    if stripped.endswith("?") and not stripped.startswith("#") and stripped.rstrip("?").replace(".", "").replace("_", "").isalnum():
        return indent + "#" + stripped[1:]
    # `x = !ls` / `x = %env`
    for marker in ("= !", "= %"):
        pos = line.find(marker)
        if pos != -1 and "#" not in line[:pos] and "'" not in line[:pos] and '"' not in line[:pos]:
            return line[: pos + 2] + "None  #" + line[pos + 3:]
    return line


def cell_text(cell: dict, index: Optional[int] = None) -> str:
    src = cell.get("source", "")
    where = f"cell {index + 1}" if index is not None else "a cell"
    if isinstance(src, list):
        bad = next((i for i, part in enumerate(src) if not isinstance(part, str)), None)
        if bad is not None:
            raise NotebookError(f"{where}: source list item {bad} is {_json_kind(src[bad])}, not a string")
        src = "".join(src)
    if not isinstance(src, str):
        raise NotebookError(f"{where}: source is {_json_kind(src)}, neither a string nor a list of strings")
    return src


def _json_kind(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    return "a string"


def load_notebook(text: str) -> NotebookSource:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise NotebookError(f"notebook is not valid JSON: {e.msg}", e.lineno, e.colno) from None
    except RecursionError:
        raise NotebookError("notebook JSON is nested too deeply to read") from None
    if not isinstance(data, dict) or not isinstance(data.get("cells"), list):
        raise NotebookError("notebook JSON has no 'cells' list")
    metadata = data.get("metadata")
    lang = (metadata.get("kernelspec", {}) if isinstance(metadata, dict) else {}) or {}
    if isinstance(lang, dict) and lang.get("language") not in (None, "python", "Python"):
        return NotebookSource("", [], {}, data)
    out_lines: list[str] = []
    line_map: list[tuple[int, int]] = []
    cell_sources: dict[int, str] = {}
    for idx, cell in enumerate(data["cells"]):
        if not isinstance(cell, dict):
            raise NotebookError(f"cell {idx} is not an object")
        if cell.get("cell_type") != "code":
            continue
        src = cell_text(cell, idx)
        cell_sources[idx] = src
        lines = src.split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        cell_magic = bool(lines) and lines[0].lstrip().startswith("%%")
        for i, line in enumerate(lines):
            line = line.rstrip("\r")
            if cell_magic:
                line = "#" + line[1:] if line else line
                if line and not line.startswith("#"):
                    line = "# " + line
            else:
                line = _neutralise(line)
            out_lines.append(line)
            line_map.append((idx, i + 1))
    source = "\n".join(out_lines) + ("\n" if out_lines else "")
    return NotebookSource(source, line_map, cell_sources, data)
