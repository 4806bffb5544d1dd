"""One line after the suite's coverage table: line and branch coverage apart (coverage's own
total mixes the two). Reads the JSON report `make test` writes.

    .venv/bin/python tools/coverage_summary.py .coverage.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def main(path: str) -> None:
    totals = json.loads(Path(path).read_text())["totals"]
    lines = totals["covered_lines"] / max(totals["num_statements"], 1)
    branches = totals["covered_branches"] / max(totals["num_branches"], 1)
    print(
        f"coverage: lines {lines:.1%} ({totals['covered_lines']:,} of {totals['num_statements']:,}), "
        f"branches {branches:.1%} ({totals['covered_branches']:,} of {totals['num_branches']:,})"
    )


if __name__ == "__main__":
    main(sys.argv[1])
