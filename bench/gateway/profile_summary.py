"""Summarise a py-spy ``raw`` profile (collapsed stacks): where the samples are.

``python -m bench.gateway.profile_summary bench/.work/profile-socle-sqlite-c8.collapsed.txt``
prints the functions holding the most samples, by self time (the frame on top of the stack) and
inclusive time (anywhere in the stack), optionally only for frames matching ``--match``.
"""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path


def summarise(path: Path, top: int, match: str | None) -> str:
    """The report as text."""
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        samples = int(count)
        total += samples
        frames = stack.split(";")
        own[frames[-1]] += samples
        for frame in set(frames):
            inclusive[frame] += samples
    if not total:
        return "no samples"

    def rows(counter: Counter[str]) -> list[str]:
        picked = [(f, n) for f, n in counter.most_common() if match is None or match in f]
        return [f"{n / total:6.1%}  {f[:150]}" for f, n in picked[:top]]

    return "\n".join([f"{total} samples", "-- self", *rows(own), "-- inclusive", *rows(inclusive)])


def main() -> None:
    """Parse the arguments and print the summary."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("profile", type=Path)
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--match", help="only frames containing this text (e.g. socle/)")
    args = parser.parse_args()
    print(summarise(args.profile, args.top, args.match))


if __name__ == "__main__":
    main()
