"""The third-party plugins' settings reach them (issue 29): Meltano hands a plugin only the
settings its definition declares, so an undeclared one given as an environment variable
(TARGET_POSTGRES_USE_COPY=true) is dropped without a word. Every setting each loader (and
tap-postgres, the reverse-ETL source) reads is declared, in `meltano.yml` and in the definitions
users add from `docs/meltano/`, and one value per setting, given the way a scheduler gives it,
arrives in the configuration Meltano passes."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import ROOT, meltano

PLUGIN_TYPE = {
    "target-postgres": "loaders",
    "target-duckdb": "loaders",
    "target-jsonl": "loaders",
    "tap-postgres": "extractors",
}
SDK_PLUGINS = {"target-postgres", "tap-postgres"}  # `--about` lists their settings
NOT_DECLARED = {
    "tap-postgres": {},
    "target-postgres": {"dialect+driver": "deprecated; sqlalchemy_url names the driver"},
    "target-duckdb": {
        "path": "another name for filepath",
        "database": "the catalog name, which target-duckdb takes from the file",
        "dbname": "the same as database",
    },
    "target-jsonl": {},
}


def _declared(loader: str) -> dict[str, dict[str, Any]]:
    project = yaml.safe_load((ROOT / "meltano.yml").read_text())
    plugin = next(p for p in project["plugins"][PLUGIN_TYPE[loader]] if p["name"] == loader)
    return {s["name"]: s for s in plugin.get("settings", [])}


def _declared_for_users(plugin: str) -> dict[str, dict[str, Any]]:
    """The definition README "Use in your own Meltano project" has users add."""
    definition = yaml.safe_load((ROOT / "docs" / "meltano" / f"{plugin}.yml").read_text())
    return {s["name"]: s for s in definition["settings"]}


def _plugin_dir(loader: str) -> Path:
    return ROOT / ".meltano" / PLUGIN_TYPE[loader] / loader


def _site_packages(loader: str) -> Path:
    found = sorted((_plugin_dir(loader) / "venv" / "lib").glob("python3*/site-packages"))
    if not found:
        pytest.skip(f"{loader} is not installed (make install)")
    return found[0]


def _about(loader: str) -> dict[str, Any]:
    """A Singer SDK loader's settings as its `--about` reports them."""
    executable = _plugin_dir(loader) / "venv" / "bin" / loader
    if not executable.exists():
        pytest.skip(f"{loader} is not installed (make install)")
    about = subprocess.run(
        [str(executable), "--about", "--format", "json"], capture_output=True, text=True, check=True
    )
    properties: dict[str, Any] = json.loads(about.stdout)["settings"]["properties"]
    return properties


def _read_by_code(loader: str) -> set[str]:
    """The settings a loader's own code reads: `--about` where it has one (Singer SDK), else the
    keys its source looks up with `config.get(...)`."""
    if loader in SDK_PLUGINS:
        return set(_about(loader))
    package = _site_packages(loader)
    sources = [*package.glob(f"{loader.replace('-', '_')}/*.py")]
    sources += [*package.glob(f"{loader.replace('-', '_')}.py")]
    assert sources, f"no source of {loader} under {package}"
    lookup = re.compile(r"""config\.get\(\s*["']([a-z_]+)["']""")
    return {name for source in sources for name in lookup.findall(source.read_text())}


@pytest.mark.parametrize("loader", sorted(NOT_DECLARED))
def test_every_setting_a_loader_reads_is_declared(loader: str) -> None:
    read = _read_by_code(loader)
    assert read, f"found no settings {loader} reads"
    missing = read - set(_declared(loader)) - set(NOT_DECLARED[loader])
    assert not missing, f"{loader} reads settings meltano.yml does not declare: {sorted(missing)}"


@pytest.mark.parametrize("plugin", sorted(SDK_PLUGINS))
def test_the_definitions_users_add_declare_every_setting(plugin: str) -> None:
    missing = set(_about(plugin)) - set(_declared_for_users(plugin)) - set(NOT_DECLARED[plugin])
    assert not missing, f"docs/meltano/{plugin}.yml does not declare: {sorted(missing)}"


@pytest.mark.parametrize("plugin", sorted(SDK_PLUGINS))
@pytest.mark.parametrize("where", ["meltano.yml", "docs/meltano"])
def test_settings_are_declared_with_the_kind_the_plugin_takes(plugin: str, where: str) -> None:
    """A boolean declared as text reaches the plugin as the string "false", which it reads as
    true: each kind is the type `--about` gives (a secret may be Meltano's `password`)."""
    about = _about(plugin)
    declared = _declared(plugin) if where == "meltano.yml" else _declared_for_users(plugin)
    kinds = {
        name: "string" if spec.get("kind") in ("password", "options") else spec.get("kind")
        for name, spec in declared.items()
    }
    types = {name: next(t for t in about[name]["type"] if t != "null") for name in kinds}
    assert kinds == types
    secrets = {name for name, spec in about.items() if spec.get("secret")}
    assert secrets <= {name for name, spec in declared.items() if spec.get("sensitive")}


def test_the_loader_users_add_ships_the_fastest_exact_configuration() -> None:
    """meltano.yml's measured choices (its comment on target-postgres's config) are the values
    of the definition users add."""
    project = yaml.safe_load((ROOT / "meltano.yml").read_text())
    ours = next(p for p in project["plugins"]["loaders"] if p["name"] == "target-postgres")
    users = _declared_for_users("target-postgres")
    for name in ("validate_records", "use_copy"):
        assert users[name].get("value") == ours["config"][name], name


_VALUES = {
    "boolean": ("true", True),
    "integer": ("7", 7),
    "object": ('{"a": 1}', {"a": 1}),
    "array": ('["a"]', ["a"]),
}


@pytest.mark.parametrize("loader", sorted(NOT_DECLARED))
def test_each_declared_setting_given_as_a_variable_reaches_the_loader(
    loader: str, tmp_path: Path
) -> None:
    prefix = loader.upper().replace("-", "_") + "_"
    env, expected = {}, {}
    for name, spec in _declared(loader).items():
        text, value = _VALUES.get(spec.get("kind", "string"), (f"v-{name}", f"v-{name}"))
        env[prefix + name.upper()] = text
        expected[name] = value
    output = meltano(tmp_path, "config", "--unsafe", "print", loader, env=env)
    config, _ = json.JSONDecoder().raw_decode(output[output.index("{") :])  # stdout first
    arrived = {name: config.get(name) for name in expected}
    assert arrived == expected


def test_meltano_reads_the_shipped_buffer_size_from_meltano_yml(tmp_path: Path) -> None:
    """Meltano's tap -> loader buffer (`elt.buffer_size`, MELTANO_ELT_BUFFER_SIZE): 8 MiB, from
    meltano.yml (a key Meltano does not know would leave its 10 MiB default in silence)."""
    script = (
        "from meltano.core.project import Project\n"
        "value, source = Project.find().settings.get_with_source('elt.buffer_size')\n"
        "print(value, source.name)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env={"MELTANO_DATABASE_URI": f"sqlite:///{tmp_path / 'meltano.db'}", "PATH": "/usr/bin"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.split()[-2:] == [str(8 * 1024 * 1024), "MELTANO_YML"]
