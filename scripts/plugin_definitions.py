"""Write hub/extractors/tap-oracle-wms.yml and hub/loaders/target-oracle-wms.yml from `--about`.

Meltano Hub's plugin definition format (its `_data/meltano/<type>/<name>/<variant>.yml`, checked
by the Hub's JSON Schema and yamllint config: keys in alphabetical order): every setting the
plugin's `--about --format json` reports, with a label, its description, a Meltano kind and its
default; the capabilities and Python versions as reported; `pip_url` the package at
pyproject.toml's version, which `meltano install` finds on an index or in a directory of built
wheels (README "Install"). `--print-settings NAME` prints the `settings:` list alone, indented for
the plugin's entry in meltano.yml. tests/test_plugin_definitions.py checks both files against
`--about` and the Hub's rules, so run this after changing a setting:

    .venv/bin/python scripts/plugin_definitions.py
"""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
# The public repository, for a Hub definition's `repo` and `docs` (nothing installs from it; Meltano
# prints `docs` after `meltano add`). None until the project is published: both are left out
# rather than pointing at a placeholder.
REPO: str | None = None
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
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
    "pip_url": f"{PROJECT['name']}=={PROJECT['version']}",
    "domain_url": "https://docs.oracle.com/en/cloud/saas/warehouse-management/",
    "keywords": ["meltano_sdk", "oracle", "wms"],
    "maintenance_status": "active",
    # Meltano rates quality by usage in projects (docs.meltano.com/contribute/connectors,
    # "Connector Quality"); there is no usage data yet: the Hub's "unknown" (its "No Data").
    "quality": "unknown",
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
        "LPN updates, new orders and ASNs (stage), waves, picks, LPN shipping and receipts",
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


def kind(name: str, schema: dict[str, Any]) -> str:
    """Meltano's setting kind for a JSON Schema type; a JSON number has none that works."""
    types = set(schema["type"] if isinstance(schema["type"], list) else [schema["type"]])
    types.discard("null")
    (json_type,) = types
    if json_type == "number":
        # `integer` breaks a fraction (int("30.5") in Meltano) and `decimal` breaks every value
        # given as text, an environment variable or `meltano config set` (Meltano 4.4.1 casts
        # it to Decimal, then cannot write the plugin's config): make the setting whole.
        sys.exit(f"setting {name} is a JSON number: make it an integer (no Meltano kind fits)")
    if schema.get("secret"):
        return "password"
    if schema.get("enum"):
        return "options"
    if json_type == "string" and (
        schema.get("format") in ("date-time", "date") or name in ("start_date", "end_date")
    ):
        return "date_iso8601"
    return json_type


def setting(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    if not schema.get("description"):
        sys.exit(f"setting {name} has no description: give it one in the plugin's config schema")
    entry: dict[str, Any] = {
        "name": name,
        "label": label(name, schema),
        "kind": kind(name, schema),
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
        **({"docs": f"{REPO}#readme", "repo": REPO} if REPO else {}),
        "pip_url": COMMON["pip_url"],
        "executable": executable,
        "domain_url": COMMON["domain_url"],
        "keywords": COMMON["keywords"],
        "maintenance_status": COMMON["maintenance_status"],
        "quality": COMMON["quality"],
        "supported_python_versions": info["supported_python_versions"],
        "capabilities": info["capabilities"],
        "settings_group_validation": COMMON["settings_group_validation"],
        "settings": settings(info),
    }


def dump(content: Any, *, sort_keys: bool = False) -> str:
    return yaml.safe_dump(content, sort_keys=sort_keys, allow_unicode=True, width=100)


def main(argv: list[str]) -> int:
    if argv[:1] == ["--print-settings"]:
        block = dump({"settings": settings(about(argv[1]))})
        print("".join(f"    {line}\n" for line in block.splitlines()), end="")
        return 0
    for executable, plugin in PLUGINS.items():
        path: Path = plugin["path"]
        path.parent.mkdir(parents=True, exist_ok=True)
        header = f"# Meltano Hub plugin definition; generated by scripts/{Path(__file__).name}.\n"
        # The Hub's yamllint config has `key-ordering`: every mapping's keys alphabetical.
        path.write_text(header + dump(definition(executable), sort_keys=True))
        print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
