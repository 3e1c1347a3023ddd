"""The plugin definitions (meltano.yml, hub/) say what the plugins themselves report (`--about`),
hub/ passes Meltano Hub's own rules (its JSON Schema and yamllint config, vendored under
tests/fixtures/meltano_hub/), and the version everyone reports is pyproject.toml's."""

from __future__ import annotations

import json
import subprocess
import tomllib
from functools import cache
from importlib.metadata import version
from typing import Any

import pytest
import yaml
from jsonschema import Draft7Validator
from packaging.specifiers import SpecifierSet
from referencing import Registry, Resource

from tests.conftest import BIN, ROOT

PLUGINS = {
    "tap-oracle-wms": ("extractors", ROOT / "hub" / "extractors" / "tap-oracle-wms.yml"),
    "target-oracle-wms": ("loaders", ROOT / "hub" / "loaders" / "target-oracle-wms.yml"),
}
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
VERSION = PROJECT["version"]
HUB_RULES = ROOT / "tests" / "fixtures" / "meltano_hub"


@cache
def about(executable: str) -> dict[str, Any]:
    proc = subprocess.run(
        [str(BIN / executable), "--about", "--format", "json"],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(proc.stdout)  # type: ignore[no-any-return]


def expected_kind(name: str, schema: dict[str, Any]) -> str:
    """Meltano's setting kind for a JSON Schema property (Meltano's SettingKind names): the one
    whose values Meltano passes to the plugin as the type the plugin validates."""
    json_type = next(t for t in schema["type"] if t != "null")
    if schema.get("secret"):
        return "password"
    if "enum" in schema:
        return "options"
    if name == "start_date" or schema.get("format") in ("date-time", "date"):
        return "date_iso8601"
    return {
        "string": "string",
        "integer": "integer",
        "number": "decimal",
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
            assert entry["kind"] == expected_kind(name, schema), f"{where}: {name}"
            assert entry.get("value") == schema.get("default"), f"{where}: {name} default"
            assert entry.get("label"), f"{where}: {name} has no label"
            assert entry.get("description"), f"{where}: {name} has no description"
            assert bool(entry.get("sensitive")) == bool(schema.get("secret")), f"{where}: {name}"
            if "enum" in schema:
                assert [o["value"] for o in entry["options"]] == schema["enum"], where


@pytest.mark.parametrize("executable", sorted(PLUGINS))
def test_no_setting_is_a_fractional_number(executable: str) -> None:
    """Meltano 4.4.1 has no kind for a JSON number: `integer` ends in a traceback for `30.5`
    (int("30.5")), and `decimal` for any value given as text, an environment variable or
    `meltano config set` (Decimal is not JSON serializable when Meltano writes the config)."""
    properties = about(executable)["settings"]["properties"]
    numbers = [name for name, schema in properties.items() if "number" in schema["type"]]
    assert not numbers, f"{executable}: {numbers} are JSON numbers; make them integers"


def hub_validator(kind: str) -> Draft7Validator:
    """Meltano Hub's JSON Schema for an extractor or loader definition, its `$ref`s resolved
    among the vendored files (each file name is unique there)."""
    files = {path.name: json.loads(path.read_text()) for path in HUB_RULES.rglob("*.json")}
    registry: Registry = Registry(
        retrieve=lambda uri: Resource.from_contents(files[uri.rsplit("/", 1)[-1]])
    )
    return Draft7Validator(files[f"{kind}.schema.json"], registry=registry)


@pytest.mark.parametrize("executable", sorted(PLUGINS))
def test_hub_definition_passes_the_hub_schema(executable: str) -> None:
    kind, hub_path = PLUGINS[executable]
    definition = yaml.safe_load(hub_path.read_text())
    errors = [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in hub_validator(kind).iter_errors(definition)
    ]
    assert not errors, errors
    assert definition["supported_python_versions"] == about(executable)["supported_python_versions"]
    # What `meltano install` installs: this package at this version (no placeholder URL).
    assert definition["pip_url"] == f"{PROJECT['name']}=={VERSION}"


def test_hub_definitions_pass_the_hub_yamllint_config() -> None:
    proc = subprocess.run(
        [
            str(BIN / "yamllint"),
            "--strict",
            "--format",
            "parsable",
            "--config-file",
            str(HUB_RULES / "yamllint.yaml"),
            *(str(path) for _, path in PLUGINS.values()),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


IGNORED_SDK_SETTINGS = {
    # A loader into a database's settings: the target batches by `WmsSink.max_size`, validates
    # every record whatever `validate_records` says, and would reject `_sdc_*` fields.
    "target-oracle-wms": {
        "load_method",
        "batch_size_rows",
        "add_record_metadata",
        "validate_records",
        "process_activate_version_messages",
        "faker_config",
    },
    # Faker is not installed with the package: `faker_config` would configure nothing.
    "tap-oracle-wms": {"faker_config"},
}


@pytest.mark.parametrize("executable", sorted(PLUGINS))
def test_about_shows_what_a_user_can_set(executable: str) -> None:
    info = about(executable)
    shown = IGNORED_SDK_SETTINGS[executable] & set(info["settings"]["properties"])
    assert not shown, f"{executable} --about lists settings it ignores: {sorted(shown)}"
    assert "validate-records" not in info["capabilities"]
    description = info["description"]
    assert "\n" not in description.strip(), "a second line is indented into a code block"
    assert "WriteServices" not in description and "sink" not in description.lower()
    markdown = subprocess.run(
        [str(BIN / executable), "--about", "--format", "markdown"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert markdown.startswith(f"# `{executable}`\n"), markdown[:200]


def test_target_about_names_every_write_action() -> None:
    description = about("target-oracle-wms")["description"].lower()
    actions = ("inventory adjustment", "order", "asn", "lpn", "stage", "wave", "pick", "receipt")
    for words in actions:
        assert words in description, words


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
