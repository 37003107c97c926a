"""The run's time while it reads: reading stops where only the time kept back for delivering is left."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from ami_store_notifier.ports import CallBudget
from ami_store_notifier.report import TIME, RunReport

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TimeBudget:
    seconds_left: Callable[[], float]
    # The time kept back for delivering what the run claimed (and settling it).
    reserve: float

    def time_to_stop(self) -> bool:
        return self.seconds_left() <= self.reserve

    def may_call(self, report: RunReport, budget: CallBudget) -> bool:
        """Whether one more DescribeStoreImageTasks call fits the time the run has left; once the run's
        calls are spent, CallBudgetSpentError ends its reading."""
        budget.ensure_left()
        if self.time_to_stop():
            report.stop(TIME)
            logger.warning("Little time left: reading stops here; the next run goes on")
            return False
        return True
