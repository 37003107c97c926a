"""`python -m bench.verification` (PYTHONPATH=functions:.): the archive verification section on its own,
printed as `make bench` prints it, with its targets; exits 1 when one fails."""

from __future__ import annotations

import argparse
import sys

from bench.log import log_to_stderr
from bench.verification.measure import VerificationPlan, measure_verification
from bench.verification.section import verification_markdown, verification_targets


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.verification", description=__doc__)
    parser.add_argument("--small", action="store_true", help="a few tens of completions, seconds")
    args = parser.parse_args(argv)
    plan = VerificationPlan.small() if args.small else VerificationPlan()

    results = measure_verification(plan, log=log_to_stderr)
    print(verification_markdown(results), end="")
    return 0 if all(passed for _, passed, _ in verification_targets(results)) else 1


if __name__ == "__main__":
    sys.exit(main())
