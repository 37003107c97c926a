"""The README's settings, metrics and Regions tables, written from settings_spec.py, report.py and
infra/regions.py.

`make docs` (python -m infra.docs) rewrites the tables between their markers in README.md; a test fails
when the README differs from what this would write.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from ami_store_notifier.report import ALL_METRICS
from ami_store_notifier.setting_parsers import Setting
from ami_store_notifier.settings_spec import CONTEXT_SETTINGS, HANDLER_SETTINGS
from infra.regions import OPTIONAL_PARTS, SUPPORTED_REGIONS, WITHOUT_POWERTOOLS_PARAMETER

README = Path(__file__).resolve().parent.parent / "README.md"


def deployment_settings_table() -> str:
    rows = [
        "| Context key | Default | Allowed values | What it does | Handler variable |",
        "| --- | --- | --- | --- | --- |",
    ]
    rows += [
        f"| `{s.key}` | {s.documented_default()} | {s.documented_allowed()} | {s.meaning} | {_variable(s)} |"
        for s in CONTEXT_SETTINGS
    ]
    return "\n".join(rows)


def handler_settings_table() -> str:
    rows = ["| Variable | Default | Allowed values | Meaning |", "| --- | --- | --- | --- |"]
    rows += [
        f"| `{s.variable}` | {_handler_default(s)} | {s.documented_allowed()} | {s.meaning} |"
        for s in HANDLER_SETTINGS
    ]
    return "\n".join(rows)


def metrics_table() -> str:
    rows = ["| Metric | Unit | Dimensions | Meaning |", "| --- | --- | --- | --- |"]
    rows += [
        f"| `{m.name}` | {m.unit.value} | {', '.join(f'`{d}`' for d in m.dimensions)} | {m.meaning} |"
        for m in ALL_METRICS
    ]
    return "\n".join(rows)


def regions_table() -> str:
    """Per partition, the supported Regions, and those where a part is left out or a setting is needed."""
    rows = ["| Partition | Regions | Without | Needs `powertoolsLayerArn` |", "| --- | --- | --- | --- |"]
    for partition, regions in SUPPORTED_REGIONS.items():
        lacking = [
            f"{part.what}: {', '.join(sorted(part.lacking.intersection(regions)))}"
            for part in OPTIONAL_PARTS
            if part.lacking.intersection(regions)
        ]
        needing_layer = sorted(WITHOUT_POWERTOOLS_PARAMETER.intersection(regions))
        rows.append(
            f"| `{partition}` | {', '.join(regions)} | {'; '.join(lacking) or '—'} "
            f"| {', '.join(needing_layer) or '—'} |"
        )
    return "\n".join(rows)


def _variable(setting: Setting) -> str:
    return f"`{setting.variable}`" if setting.variable else "—"


def _handler_default(setting: Setting) -> str:
    # Without REGIONS the function watches the region it runs in.
    return "the function's region" if setting.variable == "REGIONS" else setting.documented_default()


TABLES = {
    "deployment-settings": deployment_settings_table,
    "handler-settings": handler_settings_table,
    "metrics": metrics_table,
    "regions": regions_table,
}


def with_tables(readme: str) -> str:
    for name, table in TABLES.items():
        pattern = re.compile(rf"(<!-- {name}:start -->\n)(?:.*?\n)?(<!-- {name}:end -->)", re.DOTALL)
        if not pattern.search(readme):
            raise ValueError(f"README.md has no <!-- {name}:start --> ... <!-- {name}:end --> markers")
        readme = pattern.sub(rf"\g<1>{_escaped(table())}\n\g<2>", readme)
    return readme


def _escaped(replacement: str) -> str:
    return replacement.replace("\\", "\\\\")


def main() -> None:
    README.write_text(with_tables(README.read_text()))
    sys.stdout.write("README.md: settings, metrics and Regions tables written from their declarations\n")


if __name__ == "__main__":
    main()
