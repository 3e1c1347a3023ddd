"""Write hub/extractors/tap-oracle-wms.yml and hub/loaders/target-oracle-wms.yml from `--about`.

Meltano Hub's plugin definition format (its `extractors/<name>/<variant>.yml`): every setting the
plugin's `--about --format json` reports, with a label, its description, a Meltano kind and its
default; the capabilities as reported. `--print-settings NAME` prints the `settings:` list alone,
indented for the plugin's entry in meltano.yml. tests/test_plugin_definitions.py checks both files
against `--about`, so run this after changing a setting:

    .venv/bin/python scripts/plugin_definitions.py
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
REPO = "https://github.com/YOUR-ORG/oracle-wms-singer"
WORDS = {
    "url": "URL",
    "ssl": "SSL",
    "http": "HTTP",
    "oauth2": "OAuth 2.0",
    "id": "ID",
    "ttl": "TTL",
    "wms": "WMS",
}
COMMON: dict[str, Any] = {
    "variant": "oracle-wms-singer",
    "repo": REPO,
    "pip_url": f"git+{REPO}.git",
    "domain_url": "https://docs.oracle.com/en/cloud/saas/warehouse-management/",
    "keywords": ["meltano_sdk", "oracle", "wms"],
    "maintenance_status": "active",
    "settings_group_validation": [
        ["base_url", "username", "password"],
        ["base_url", "auth_method", "oauth2_token_url", "oauth2_client_id", "oauth2_client_secret"],
    ],
}
PLUGINS = {
    "tap-oracle-wms": {
        "path": ROOT / "hub" / "extractors" / "tap-oracle-wms.yml",
        "namespace": "tap_oracle_wms",
        "label": "Oracle WMS Cloud",
        "description": "Warehouse management: every lgfapi v10 entity, incremental on mod_ts",
    },
    "target-oracle-wms": {
        "path": ROOT / "hub" / "loaders" / "target-oracle-wms.yml",
        "namespace": "target_oracle_wms",
        "label": "Oracle WMS Cloud",
        "description": "Reverse ETL into Oracle WMS Cloud: inventory adjustments, order, ASN and "
        "LPN updates, orders and ASNs through the stage interface",
    },
}


def about(executable: str) -> dict[str, Any]:
    output = subprocess.run(
        [str(BIN / executable), "--about", "--format", "json"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return json.loads(output)  # type: ignore[no-any-return]


def label(name: str, schema: dict[str, Any]) -> str:
    if schema.get("title"):
        return str(schema["title"])
    words = [WORDS.get(word, word) for word in name.split("_")]
    return " ".join([words[0][:1].upper() + words[0][1:], *words[1:]])


def kind(schema: dict[str, Any]) -> str:
    types = set(schema["type"] if isinstance(schema["type"], list) else [schema["type"]])
    types.discard("null")
    (json_type,) = types
    if schema.get("secret"):
        return "password"
    if schema.get("enum"):
        return "options"
    if json_type == "string" and schema.get("format") == "date-time":
        return "date_iso8601"
    # Not `decimal`: Meltano 4.4.1 casts a decimal setting given as text (an environment variable)
    # to Decimal and then fails to write the plugin's config ("Object of type Decimal is not JSON
    # serializable"). As `integer`, whole numbers work from anywhere, fractions from meltano.yml.
    return {"number": "integer"}.get(json_type, json_type)


def setting(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    if not schema.get("description"):
        sys.exit(f"setting {name} has no description: give it one in the plugin's config schema")
    entry: dict[str, Any] = {
        "name": name,
        "label": label(name, schema),
        "kind": kind(schema),
        "description": schema["description"],
    }
    if "default" in schema:
        entry["value"] = schema["default"]
    if schema.get("enum"):
        entry["options"] = [{"label": str(v), "value": v} for v in schema["enum"]]
    if schema.get("secret"):
        entry["sensitive"] = True
    return entry


def settings(info: dict[str, Any]) -> list[dict[str, Any]]:
    properties: dict[str, dict[str, Any]] = info["settings"]["properties"]
    return [setting(name, schema) for name, schema in properties.items()]


def definition(executable: str) -> dict[str, Any]:
    plugin = PLUGINS[executable]
    info = about(executable)
    return {
        "name": executable,
        "namespace": plugin["namespace"],
        "variant": COMMON["variant"],
        "label": plugin["label"],
        "description": plugin["description"],
        "docs": f"{COMMON['repo']}#readme",
        "repo": COMMON["repo"],
        "pip_url": COMMON["pip_url"],
        "executable": executable,
        "domain_url": COMMON["domain_url"],
        "keywords": COMMON["keywords"],
        "maintenance_status": COMMON["maintenance_status"],
        "capabilities": info["capabilities"],
        "settings_group_validation": COMMON["settings_group_validation"],
        "settings": settings(info),
    }


def dump(content: Any) -> str:
    return yaml.safe_dump(content, sort_keys=False, allow_unicode=True, width=100)


def main(argv: list[str]) -> int:
    if argv[:1] == ["--print-settings"]:
        block = dump({"settings": settings(about(argv[1]))})
        print("".join(f"    {line}\n" for line in block.splitlines()), end="")
        return 0
    for executable, plugin in PLUGINS.items():
        path: Path = plugin["path"]
        path.parent.mkdir(parents=True, exist_ok=True)
        header = f"# Meltano Hub plugin definition; generated by scripts/{Path(__file__).name}.\n"
        path.write_text(header + dump(definition(executable)))
        print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
