"""Re-checking AMIs by ImageIds, 20 to a request, when EC2 may refuse a whole request for one AMI it no
longer knows (deregistered meanwhile).

A refusal that names AMIs of the request drops exactly those (EC2 does not know them: they are answered,
with no task) and asks again for the rest: two calls. One that names none is split in halves until the
refused AMI stands alone, and a single AMI refused alone is answered with no task too. The requests are
answered breadth-first, the first request of every group before any half of a refused one, so a refused
group cannot spend the calls the healthy groups need; each answer is handed on as it comes, so what a run
learnt is kept when its calls or its time run out before the split ends.
"""

from __future__ import annotations

import logging
import random
from collections import deque
from collections.abc import Callable, Iterator, Sequence

from ami_store_notifier.domain.planning import chunks
from ami_store_notifier.ec2_limits import MAX_IMAGE_IDS_PER_CALL
from ami_store_notifier.ports import ListingPage, UnknownAmisError

logger = logging.getLogger(__name__)

Request = tuple[str, ...]


class Recheck:
    """One run's re-check of some AMIs: the requests still to ask, in the order they are asked."""

    def __init__(self, ami_ids: Sequence[str], *, seed: str) -> None:
        # The halves are cut at fixed places of the order, so in the same order every run the AMIs that
        # share the refused AMI's smallest part when the run's calls run out would be the same each run,
        # and never answered while their stores go on (asking the other half first would not help:
        # breadth-first asks both halves anyway). An order shuffled from the run's `seed` (its time)
        # gives each run other neighbours, so each AMI is answered within a few runs, and as the stores
        # answered end they leave the re-check, until the refused AMI stands alone. The same seed gives
        # the same order, for tests and replays.
        order = list(ami_ids)
        random.Random(seed).shuffle(order)
        self._requests: deque[Request] = deque(chunks(order, MAX_IMAGE_IDS_PER_CALL))

    @property
    def finished(self) -> bool:
        """Every AMI was answered: returned by EC2, left out of its answer, or refused as unknown."""
        return not self._requests

    @property
    def unanswered(self) -> frozenset[str]:
        """The AMIs still to ask: the run's calls, time or AWS ran out before them."""
        return frozenset(ami for request in self._requests for ami in request)

    def pages(
        self, ask: Callable[[Request], ListingPage], go_on: Callable[[], bool]
    ) -> Iterator[ListingPage]:
        """The answer of each request EC2 answered, asking one request at a time while `go_on()`."""
        while self._requests and go_on():
            # A request leaves the queue once answered: one that raised anything else is still to ask.
            try:
                page = ask(self._requests[0])
            except UnknownAmisError as refused:
                self._ask_again(self._requests.popleft(), refused)
                continue
            self._requests.popleft()
            yield page

    def _ask_again(self, request: Request, refused: UnknownAmisError) -> None:
        rest = tuple(ami for ami in request if ami not in refused.named)
        logger.info(
            "EC2 refused a re-check by ImageIds for an AMI it does not know",
            extra={"amis": len(request), "named": sorted(set(request) - set(rest)), "error": str(refused)},
        )
        if len(rest) < len(request):
            if rest:
                self._requests.append(rest)
        elif len(request) > 1:
            half = len(request) // 2
            self._requests.extend((request[:half], request[half:]))
        # Otherwise one AMI was refused alone: EC2 does not know it, so it is answered, with no task.
