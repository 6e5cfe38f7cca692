"""Regenerate the README's benchmark block from bench/out/bench.json (never type numbers by hand).

    .venv/bin/python bench/render_readme.py                      # rewrite README.md in place
    .venv/bin/python bench/render_readme.py --block-out FILE      # write the block only
    .venv/bin/python bench/render_readme.py --check               # exit 1 if README is stale
    .venv/bin/python bench/render_readme.py --section full_run    # only that section's part

Replaces everything between `<!-- bench:start -->` and `<!-- bench:end -->`; the markers stay.
With --section KEY only that section's part of the block (from its `#### title` heading to the
next) is rendered again from the JSON, or appended when the block has none: for a section run
on its own (`bench/run.py --only KEY`) when the JSON of the other sections is not at hand.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import tables  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
START, END = "<!-- bench:start -->", "<!-- bench:end -->"


def render_block(result: dict) -> str:
    return tables.to_markdown(result, heading_level=4)


def replace_block(readme_text: str, block: str) -> str:
    start, end = readme_text.find(START), readme_text.find(END)
    if start < 0 or end < 0 or end < start:
        raise ValueError(f"README has no {START} … {END} block")
    return readme_text[: start + len(START)] + "\n" + block.rstrip() + "\n" + readme_text[end:]


def replace_section(readme_text: str, result: dict, key: str) -> str:
    """The README's block with the section `key` re-rendered from `result`, the rest kept as is."""
    start, end = readme_text.find(START), readme_text.find(END)
    if start < 0 or end < 0 or end < start:
        raise ValueError(f"README has no {START} … {END} block")
    s = result["sections"][key]
    new = tables.section_markdown(s, result.get("machine", {}), "####")
    while new and not new[-1]:
        new.pop()
    block = readme_text[start + len(START):end].strip("\n").splitlines()
    heading = f"#### {s['title']}"
    i = next((j for j, line in enumerate(block) if line == heading or line.startswith(heading + " (measured")), None)
    if i is None:
        block = block + [""] + new
    else:
        k = next((j for j in range(i + 1, len(block)) if block[j].startswith("#### ")), len(block))
        block = block[:i] + new + ([""] if k < len(block) else []) + block[k:]
    return replace_block(readme_text, "\n".join(block))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", default=str(REPO / "bench/out/bench.json"))
    ap.add_argument("--readme", default=str(REPO / "README.md"))
    ap.add_argument("--block-out", help="write the generated block to this file instead of README")
    ap.add_argument("--check", action="store_true", help="exit 1 when README's block differs")
    ap.add_argument("--section", help="re-render only this section's part of the block (e.g. full_run)")
    args = ap.parse_args(argv)

    result = json.loads(Path(args.json).read_text(encoding="utf-8"))
    if args.section and args.section not in result.get("sections", {}):
        print(f"{args.json} has no section {args.section!r}: run bench/run.py --only {args.section} first",
              file=sys.stderr)
        return 2
    block = render_block(result)
    if args.block_out:
        Path(args.block_out).write_text(f"{START}\n{block.rstrip()}\n{END}\n", encoding="utf-8")
        print(f"wrote {args.block_out}")
        return 0
    readme = Path(args.readme)
    old = readme.read_text(encoding="utf-8")
    new = replace_section(old, result, args.section) if args.section else replace_block(old, block)
    if args.check:
        if new != old:
            print(f"{readme} benchmark block is stale: run bench/render_readme.py", file=sys.stderr)
            return 1
        return 0
    if new != old:
        readme.write_text(new, encoding="utf-8")
    print(f"{'updated' if new != old else 'unchanged'} {readme}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
