"""Which context keys the deployment reads: those earlier versions read, refused with what replaces them,
and keys no setting reads, reported as likely typos.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

from ami_store_notifier.setting_parsers import SettingError, is_absent
from ami_store_notifier.settings_spec import CONTEXT_SETTINGS

# Context keys that earlier versions read: refused with what replaces them, so an old cdk.json fails loudly.
RETIRED_KEYS = {
    "powertoolsLayerVersion": (
        "powertoolsLayerVersion is no longer read: the layer is now AWS's own published layer for the "
        "Powertools version the tests pin, looked up in the deployment's region and partition. Remove the "
        "key, or set powertoolsLayerArn to a full layer version ARN to override"
    ),
}

KNOWN_KEYS = frozenset(setting.key for setting in CONTEXT_SETTINGS if setting.key is not None)


def refuse_retired_keys(get: Callable[[str], object]) -> None:
    """Stops at a retired key that is set; ``get`` returns a context value or None."""
    for key, replacement in RETIRED_KEYS.items():
        if not is_absent(get(key)):
            raise SettingError(replacement)


def unknown_keys(context: Mapping[str, object]) -> list[str]:
    """Context keys shaped like ours (plain camelCase) that no setting reads: most likely typos."""
    return sorted(k for k in context if re.fullmatch(r"[a-z][A-Za-z0-9]*", k) and k not in KNOWN_KEYS)
