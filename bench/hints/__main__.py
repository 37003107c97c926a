"""`python -m bench.hints` (PYTHONPATH=functions:.): the hints section on its own, printed as `make bench`
prints it, with its targets; exits 1 when one fails."""

from __future__ import annotations

import argparse
import sys

from bench.hints.plan import HintsPlan
from bench.hints.scenarios import measure_hints
from bench.hints.section import hints_section
from bench.hints.targets import hints_targets
from bench.log import log_to_stderr


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.hints", description=__doc__)
    parser.add_argument("--small", action="store_true", help="every scenario at a few seconds' size")
    args = parser.parse_args(argv)
    plan = HintsPlan.small() if args.small else HintsPlan()

    results = measure_hints(plan, log=log_to_stderr)
    checks = hints_targets(results)
    print("\n".join(hints_section(results)))
    print("\n### Targets\n")
    for name, passed, detail in checks:
        print(f"- **{'PASS' if passed else 'FAIL'}** {name}: {detail}")
    return 0 if all(passed for _, passed, _ in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
