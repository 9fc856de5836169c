"""Refresh the outputs shown in the docs: the ```text block right after each ```python
block becomes what that block prints now. ``--check`` only reports pages that are stale.

    python docs/tools/refresh_doc_outputs.py docs/*.md          # rewrite
    python docs/tools/refresh_doc_outputs.py --check docs/*.md  # exit 1 when a page is stale
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FENCE = re.compile(r"^```(\w*)\n(.*?)^```\n", re.S | re.M)
MARK = "@@srcad-doc-block@@"


def outputs_of(page: str) -> tuple[str, list[tuple[str, str, int, int]], dict[int, str]]:
    """The page text, its fenced blocks, and what each python block prints."""
    text = open(page, encoding="utf-8").read()
    blocks = [(m.group(1), m.group(2), m.start(), m.end()) for m in FENCE.finditer(text)]
    code = [f"print({MARK!r}, {i}, flush=True)\n{body}"
            for i, (lang, body, _, _) in enumerate(blocks) if lang == "python"]
    folder = tempfile.mkdtemp()
    name = "docpage_" + os.path.basename(page)[:-3].replace("-", "_")
    with open(os.path.join(folder, name + ".py"), "w", encoding="utf-8") as file:
        file.write("\n".join(code))
    run = subprocess.run([sys.executable, "-c", f"import sys; sys.path.insert(0, {folder!r}); "
                          f"import {name}"], cwd=ROOT, capture_output=True, text=True, timeout=600)
    if run.returncode:
        raise SystemExit(f"{page}: the python blocks failed:\n{run.stderr[-3000:]}")
    printed: dict[int, str] = {}
    for chunk in run.stdout.split(MARK + " ")[1:]:
        index, _, out = chunk.partition("\n")
        printed[int(index)] = out
    return text, blocks, printed


def refreshed(page: str) -> tuple[str, str]:
    """(current text, text with every output block replaced by the fresh output)."""
    text, blocks, printed = outputs_of(page)
    parts, last = [], 0
    for i, (lang, _, start, end) in enumerate(blocks):
        previous = blocks[i - 1][0] if i else None
        if lang == "text" and previous == "python" and printed.get(i - 1, "").strip():
            parts += [text[last:start], "```text\n" + printed[i - 1].rstrip("\n") + "\n```\n"]
            last = end
    parts.append(text[last:])
    return text, "".join(parts)


def main(argv: list[str]) -> int:
    check = "--check" in argv
    stale = []
    for page in [a for a in argv if a != "--check"]:
        old, new = refreshed(page)
        if old != new:
            stale.append(page)
            if not check:
                with open(page, "w", encoding="utf-8") as file:
                    file.write(new)
    for page in stale:
        print(("stale: " if check else "refreshed: ") + page)
    return 1 if (check and stale) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
