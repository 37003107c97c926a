"""The documentation's settings, metrics and Regions tables, written from settings_spec.py, report.py and
infra/regions.py.

`make docs` (python -m infra.docs) rewrites each table between its markers (`<!-- name:start -->`,
`<!-- name:end -->`) in the page of docs/ that holds it (`PAGES`); a test fails when a page differs from
what this would write.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

from ami_store_notifier.report import ALL_METRICS
from ami_store_notifier.setting_parsers import Setting
from ami_store_notifier.settings_spec import CONTEXT_SETTINGS, HANDLER_SETTINGS
from infra.regions import OPTIONAL_PARTS, SUPPORTED_REGIONS, WITHOUT_POWERTOOLS_PARAMETER

DOCS = Path(__file__).resolve().parent.parent / "docs"


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


Table = Callable[[], str]

# Each page of docs/ and the tables it holds, by marker name.
PAGES: dict[Path, dict[str, Table]] = {
    DOCS / "deploying" / "settings.md": {"deployment-settings": deployment_settings_table},
    DOCS / "deploying" / "regions.md": {"regions": regions_table},
    DOCS / "settings-and-metrics.md": {"handler-settings": handler_settings_table, "metrics": metrics_table},
}


def with_tables(page: str, tables: Mapping[str, Table]) -> str:
    """`page` with each of `tables` written between its markers, which the page must have."""
    for name, table in tables.items():
        pattern = re.compile(rf"(<!-- {name}:start -->\n)(?:.*?\n)?(<!-- {name}:end -->)", re.DOTALL)
        if not pattern.search(page):
            raise ValueError(f"the page has no <!-- {name}:start --> ... <!-- {name}:end --> markers")
        page = pattern.sub(rf"\g<1>{_escaped(table())}\n\g<2>", page)
    return page


def _escaped(replacement: str) -> str:
    return replacement.replace("\\", "\\\\")


def main() -> None:
    for page, tables in PAGES.items():
        page.write_text(with_tables(page.read_text(), tables))
        name = page.relative_to(DOCS.parent)
        sys.stdout.write(f"{name}: {', '.join(tables)} written from their declarations\n")


if __name__ == "__main__":
    main()
