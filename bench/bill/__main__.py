"""`python -m bench.bill` (with PYTHONPATH=functions): the bill alone, in a few minutes.

Synthesizes every mode's template, runs the handler with each mode's environment, prints the itemized
bill and its targets, keeps its inputs in bench/bill/measured.json and writes docs/cost.md's section to
bench/results/readme-cost.md. `--from-snapshot` prices the kept inputs instead, in a second."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from bench.bill import snapshot
from bench.bill.measure import measure_all
from bench.bill.model import Bills, bills, targets
from bench.bill.modes import MODES
from bench.bill.render import readme_section, report_section

README_OUTPUT = snapshot.PATH.parents[1] / "results" / "readme-cost.md"  # bench/results/ is git-ignored


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bill", description=__doc__)
    parser.add_argument("--from-snapshot", action="store_true", help="price the kept inputs, measure nothing")
    args = parser.parse_args(argv)

    def log(message: str) -> None:
        print(f"[bill] {message}", file=sys.stderr, flush=True)

    found = bills(MODES, snapshot.load() if args.from_snapshot else measure_all(log))
    checks = targets(found)
    print("\n".join(report_section(found)))
    print()
    for name, passed, detail in checks:
        print(f"- **{'PASS' if passed else 'FAIL'}** {name}: {detail}")
    if args.from_snapshot:
        write_readme_section(found, log)
    else:
        keep(found, log)
    return 0 if all(passed for _, passed, _ in checks) else 1


def keep(found: Bills, log: Callable[[str], None]) -> None:
    """The inputs, for the cost page's test and the next diff; and the cost page's section."""
    snapshot.save(found.measured)
    log(f"Bill inputs kept in {snapshot.PATH}")
    write_readme_section(found, log)


def write_readme_section(found: Bills, log: Callable[[str], None]) -> None:
    README_OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    README_OUTPUT.write_text(readme_section(found) + "\n", encoding="utf-8")
    log(f"The cost section of docs/cost.md written to {README_OUTPUT}")


if __name__ == "__main__":
    sys.exit(main())
