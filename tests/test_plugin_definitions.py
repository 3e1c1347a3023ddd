"""The plugin definitions (meltano.yml, hub/) say what the plugins themselves report (`--about`),
and the version everyone reports is pyproject.toml's."""

from __future__ import annotations

import json
import subprocess
import tomllib
from functools import cache
from importlib.metadata import version
from typing import Any

import pytest
import yaml
from packaging.specifiers import SpecifierSet

from tests.conftest import BIN, ROOT

PLUGINS = {
    "tap-oracle-wms": ("extractors", ROOT / "hub" / "extractors" / "tap-oracle-wms.yml"),
    "target-oracle-wms": ("loaders", ROOT / "hub" / "loaders" / "target-oracle-wms.yml"),
}
VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]


@cache
def about(executable: str) -> dict[str, Any]:
    proc = subprocess.run(
        [str(BIN / executable), "--about", "--format", "json"],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(proc.stdout)  # type: ignore[no-any-return]


def expected_kind(schema: dict[str, Any]) -> str:
    """Meltano's setting kind for a JSON Schema property (Meltano's SettingKind names)."""
    json_type = next(t for t in schema["type"] if t != "null")
    if schema.get("secret"):
        return "password"
    if "enum" in schema:
        return "options"
    if schema.get("format") == "date-time":
        return "date_iso8601"
    return {
        "string": "string",
        "integer": "integer",
        # Meltano 4.4.1's `decimal` kind breaks values from environment variables (Decimal is not
        # JSON serializable when Meltano writes the plugin's config): numbers are `integer`.
        "number": "integer",
        "boolean": "boolean",
        "array": "array",
        "object": "object",
    }[json_type]


def definitions(executable: str) -> dict[str, dict[str, Any]]:
    kind, hub_path = PLUGINS[executable]
    project = yaml.safe_load((ROOT / "meltano.yml").read_text())
    in_project = next(p for p in project["plugins"][kind] if p["name"] == executable)
    return {
        "meltano.yml": in_project,
        str(hub_path.relative_to(ROOT)): yaml.safe_load(hub_path.read_text()),
    }


@pytest.mark.parametrize("executable", sorted(PLUGINS))
def test_definitions_match_about(executable: str) -> None:
    info = about(executable)
    properties: dict[str, dict[str, Any]] = info["settings"]["properties"]
    assert "base_url" in properties
    for where, definition in definitions(executable).items():
        assert definition["namespace"] == executable.replace("-", "_"), where
        assert definition["executable"] == executable, where
        assert sorted(definition["capabilities"]) == sorted(info["capabilities"]), where
        settings = {s["name"]: s for s in definition["settings"]}
        assert sorted(settings) == sorted(properties), f"{where}: settings differ from --about"
        for name, schema in properties.items():
            entry = settings[name]
            assert entry["kind"] == expected_kind(schema), f"{where}: {name}"
            assert entry.get("value") == schema.get("default"), f"{where}: {name} default"
            assert entry.get("label"), f"{where}: {name} has no label"
            assert entry.get("description"), f"{where}: {name} has no description"
            assert bool(entry.get("sensitive")) == bool(schema.get("secret")), f"{where}: {name}"
            if "enum" in schema:
                assert [o["value"] for o in entry["options"]] == schema["enum"], where


def test_the_readme_settings_are_the_plugins() -> None:
    """Every tap setting of ours (not the SDK's) is in the README's settings table."""
    readme = (ROOT / "README.md").read_text()
    sdk_settings = {"stream_maps", "stream_map_config", "faker_config", "batch_config"}
    ours = [
        name
        for name in about("tap-oracle-wms")["settings"]["properties"]
        if name not in sdk_settings and not name.startswith("flattening_")
    ]
    missing = [name for name in ours if f"`{name}`" not in readme]
    assert not missing, f"settings missing from README.md: {missing}"


def test_meltano_version_requirement_holds() -> None:
    project = yaml.safe_load((ROOT / "meltano.yml").read_text())
    assert version("meltano") in SpecifierSet(project["requires_meltano"])


@pytest.mark.parametrize("executable", ["tap-oracle-wms", "target-oracle-wms"])
def test_version_comes_from_the_package(executable: str) -> None:
    assert about(executable)["version"] == VERSION
    proc = subprocess.run(
        [str(BIN / executable), "--version"], capture_output=True, text=True, check=True
    )
    assert f"v{VERSION}" in proc.stdout
    assert "could not be detected" not in proc.stdout


def test_changelog_has_the_version() -> None:
    assert f"## {VERSION} " in (ROOT / "CHANGELOG.md").read_text()
