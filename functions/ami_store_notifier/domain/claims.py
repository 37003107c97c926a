"""What a run claims of one task: the state it records, on what condition, and what that announces."""

from __future__ import annotations

from dataclasses import dataclass, replace

from ami_store_notifier.domain.announcements import Announcement
from ami_store_notifier.domain.model import StoreTask, TaskState
from ami_store_notifier.domain.notices import Deliverable, Notice


@dataclass(frozen=True)
class Claim:
    """Recording `state` for a task. `previous_state` is what the table must hold for the write to
    win: None means the task must not be recorded yet. Only one run can win each claim.

    `notices` are claimed with it, each only if the task has not had one of its kind (domain/notices.py);
    a claim whose state is its previous state moves nothing and claims its notices alone."""

    task: StoreTask
    state: TaskState
    previous_state: TaskState | None
    announcement: Announcement | None
    notices: tuple[Notice, ...] = ()

    @property
    def moves(self) -> bool:
        return self.state is not self.previous_state

    def with_notice(self, notice: Notice) -> Claim:
        return replace(self, notices=(*self.notices, notice))

    def announced(self) -> dict[str, Deliverable]:
        """What the claim announces, by milestone: its state change (when announced) and its notices."""
        told: dict[str, Deliverable] = {}
        if self.announcement is not None:
            told[self.state.value] = self.announcement
        return told | {notice.kind.value: notice for notice in self.notices}
