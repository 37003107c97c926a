"""Reads what the bills are computed from: the modes' templates, synthesized now, and runs of the real
handler with each mode's environment (one child process per distinct environment)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import asdict

from bench.bill.model import Measured
from bench.bill.modes import HUB, MODES, SPOKE, Mode
from bench.bill.profile import Profile
from bench.bill.runs import Spec, measure
from bench.bill.templates import Counted, count, synthesize, unknown_settings
from bench.bill.usage import Assumptions
from bench.static import measure_import_time

Log = Callable[[str], None]


def _spec(counted: Counted, relay_from: Counted | None) -> Spec:
    poller = counted.poller
    if poller is None:
        raise ValueError("a spec needs the template of a notifier (its poller's environment)")
    relay = relay_from.relay if relay_from is not None else None
    return Spec(
        environment=dict(poller.environment),
        chat="CHAT_TOPIC_ARN" in poller.topics,
        relay_environment=dict(relay.environment) if relay is not None else None,
        hints=counted.polled_queues > 0,
    )


def specs(modes: Iterable[Mode], counted: dict[str, Counted]) -> dict[str, Spec]:
    """By mode key: the runs that price it. The hub has no poller: its spokes' runs give the announcements
    it relays, and their child runs its relay too."""
    by_template = {mode.template: mode.key for mode in modes}
    hub = counted[by_template[HUB]] if HUB in by_template else None
    found = {}
    for mode in modes:
        if mode.template == SPOKE:
            found[mode.key] = _spec(counted[mode.key], hub)
        elif mode.template != HUB:
            found[mode.key] = _spec(counted[mode.key], None)
    found.update({mode.key: found[by_template[SPOKE]] for mode in modes if mode.template == HUB})
    return found


def _key(spec: Spec) -> str:
    return json.dumps(asdict(spec), sort_keys=True)


def measure_all(log: Log, modes: Iterable[Mode] = MODES) -> Measured:
    modes = tuple(modes)
    log("Bill: synthesizing each mode's template")
    counted = {key: count(template) for key, template in synthesize(modes).items()}
    by_mode = specs(modes, counted)
    profiles: dict[str, Profile] = {}
    for key, spec in by_mode.items():
        if _key(spec) not in profiles:
            log(f"Bill: measuring the handler's runs with the {key} environment")
            profiles[_key(spec)] = measure(spec)
    log("Bill: the handler's import time (a cold start's INIT phase)")
    init = measure_import_time(1).handler_cumulative_ms / 1000
    return Measured(
        counted=counted,
        profiles={key: profiles[_key(spec)] for key, spec in by_mode.items()},
        assumptions=Assumptions(init_seconds=init),
        unknown_settings={mode.key: found for mode in modes if (found := unknown_settings(mode))},
    )
