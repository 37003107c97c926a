"""Every setting, declared once: its CDK context key, the handler's environment variable, how a value is
parsed and checked, its default and what it means. This module assembles them, in the docs' order,
from the modules that declare them by concern.

Four readers use these declarations: the handler's config (`config.py`, from the environment), the
CDK settings (`infra/settings.py`, from context), the stack's environment wiring (which variables
the function gets, and how each value is written), and the docs' tables (`make docs`). A value
can come from JSON (cdk.json) or from a string (`-c key=value`, an environment variable), so every
parser takes both, and a bad value raises a `SettingError` whose message starts with the name it
was read under: the context key at synth time, the variable at run time.
"""

from __future__ import annotations

from ami_store_notifier.setting_parsers import Setting
from ami_store_notifier.settings_assurance import ASSURANCE_SETTINGS
from ami_store_notifier.settings_deployment import DEPLOYMENT_SETTINGS
from ami_store_notifier.settings_function import FUNCTION_SETTINGS
from ami_store_notifier.settings_monitoring import MONITORING_SETTINGS
from ami_store_notifier.settings_notifications import NOTIFICATION_SETTINGS
from ami_store_notifier.settings_organization import ORGANIZATION_SETTINGS
from ami_store_notifier.settings_polling import POLLING_SETTINGS
from ami_store_notifier.settings_wiring import WIRING_SETTINGS

SETTINGS: tuple[Setting, ...] = (
    *POLLING_SETTINGS,
    *ASSURANCE_SETTINGS,
    *FUNCTION_SETTINGS,
    *NOTIFICATION_SETTINGS,
    *MONITORING_SETTINGS,
    *ORGANIZATION_SETTINGS,
    *DEPLOYMENT_SETTINGS,
    *WIRING_SETTINGS,
)

CONTEXT_SETTINGS = tuple(setting for setting in SETTINGS if setting.key is not None)
HANDLER_SETTINGS = tuple(setting for setting in SETTINGS if setting.variable is not None)
