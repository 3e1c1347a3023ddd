"""singer-sdk's private names that the tap and the target override or use, pinned.

Private methods may change in any singer-sdk release without notice, and an override whose SDK
method was renamed or changed its arguments goes on running quietly, unused or wrong. So every
underscore-named attribute one of our classes defines that an SDK base class also has must be
listed in `OVERRIDDEN` with why, and every SDK private name we call, read or import in
`USED`, each with its signature in the singer-sdk version named below. An upgrade that changes
one of them fails here and names what to review.

Found by importing our packages and walking the classes that subclass an SDK class: methods
and class attributes (`vars`), annotations, and instance attributes (`self._x = ...` in the
class's source), for both our classes and the SDK's.
"""

from __future__ import annotations

import ast
import gzip
import importlib
import importlib.metadata
import inspect
import json
import pkgutil
import textwrap
import typing as t
from collections import defaultdict
from dataclasses import dataclass
from functools import cache, cached_property
from pathlib import Path
from types import ModuleType

import pytest
from singer_sdk import RESTStream, Stream, Tap, Target
from singer_sdk.batch import Batcher
from singer_sdk.configuration import _dict_config
from singer_sdk.helpers import _batch, _catalog, _classproperty
from singer_sdk.sinks import BatchSink

OUR_PACKAGES = ("oracle_wms", "tap_oracle_wms", "target_oracle_wms")
PINNED_VERSION = "0.54.9"
IGNORED = frozenset({"_abc_impl"})  # ABCMeta's cache, set on every abstract class


@dataclass(frozen=True)
class Pinned:
    owner: type | ModuleType
    """The SDK class we subclass (the name is looked up along its MRO), or an SDK module."""
    name: str
    signature: str
    """`inspect.signature` in singer-sdk PINNED_VERSION; "attribute" for instance attributes."""
    why: str


OVERRIDDEN = (
    Pinned(
        Stream,
        "_write_record_message",
        "(self, record: 'types.Record') -> 'None'",
        "RECORD lines encoded straight into the output buffer (a fifth of a full sync)",
    ),
    Pinned(
        Stream,
        "_generate_record_messages",
        "(self, record: 'types.Record') -> 't.Generator[singer.RecordMessage, None, None]'",
        "no per-record deselection walk when nothing is deselected (11% of a full sync)",
    ),
    Pinned(
        Stream,
        "_process_record",
        "(self, record: 'types.Record', child_context: 'types.Context | None' = None, "
        "partition_context: 'types.Context | None' = None) -> 'None'",
        "skipped without partitions or child streams: nothing to do per record; copies only "
        "the partition keys the SCHEMA declares",
    ),
    Pinned(
        Stream,
        "_log_metric",
        "(self, point: 'metrics.Point') -> 'None'",
        "a request answered 404 (lgfapi's empty list) tagged succeeded, not failed",
    ),
    Pinned(
        Stream,
        "_increment_stream_state",
        "(self, latest_record: 'types.Record', *, context: 'types.Context | None' = None) "
        "-> 'None'",
        "sorted streams' bookmarks held and written lazily (a tenth of a full sync)",
    ),
    Pinned(
        Stream,
        "_write_state_message",
        "(self) -> 'None'",
        "the lazily held bookmark goes into the state before a STATE message",
    ),
    Pinned(
        Stream,
        "_finalize_state",
        "(self, state: 'dict | None' = None) -> 'None'",
        "the lazily held bookmark goes into the state at a partition's or stream's end",
    ),
    Pinned(
        Tap,
        "_validate_config",
        "(self, *, raise_errors: 'bool' = True) -> 'list[str]'",
        "one line per bad setting, naming it, never a secret's value; URL checks in the same pass",
    ),
    Pinned(
        Tap,
        "_env_var_config",
        "classproperty",
        "settings from the environment typed as from a file: numbers too (meltano/sdk#82)",
    ),
    Pinned(
        Tap,
        "_handle_termination",
        "(self, signum: 'int', frame: 'FrameType | None') -> 'None'",
        "SIGTERM/SIGINT end the run at once with 128 + signal (the SDK exits 0, after joining "
        "threads blocked on a page request)",
    ),
    Pinned(
        Target,
        "_validate_config",
        "(self, *, raise_errors: 'bool' = True) -> 'list[str]'",
        "one line per bad setting, naming it, never a secret's value (as the tap)",
    ),
    Pinned(
        Target,
        "_process_schema_message",
        "(self, message_dict: 'dict') -> 'None'",
        "settings and the stream's action validated before the first sink is made",
    ),
    Pinned(
        Target,
        "_env_var_config",
        "classproperty",
        "the target's settings from the environment typed as from a file (meltano/sdk#82)",
    ),
    Pinned(
        Target,
        "_write_state_message",
        "(self, state: 'dict') -> 'None'",
        "no STATE passed on past a rejected record (allow_failures off) nor in a dry run",
    ),
    Pinned(
        BatchSink,
        "_validate_and_parse",
        "(self, record: 'dict') -> 'dict'",
        "a record that fails its stream's SCHEMA is one reject, not the end of the run",
    ),
    Pinned(
        BatchSink,
        "_singer_validate_message",
        "(self, record: 'dict') -> 'None'",
        "a record without a key property is a named reject, not the end of the run",
    ),
)

USED = (
    Pinned(
        RESTStream,
        "_request",
        "(self, prepared_request: 'requests.PreparedRequest', context: 'Context | None') "
        "-> 'requests.Response'",
        "sends a page request (auth, metrics, validate_response) inside our retry policy",
    ),
    Pinned(
        Stream,
        "_tap",
        "attribute",
        "the tap's message writer: records written into its buffer, flushed per stream",
    ),
    Pinned(Stream, "_stream_version", "attribute", "the `version` of RECORD messages we write"),
    Pinned(
        _catalog,
        "pop_deselected_record_properties",
        "(record: 'dict[str, t.Any]', schema: 'dict', mask: 'SelectionMask', "
        "breadcrumb: 'tuple[str, ...]' = ()) -> 'None'",
        "the SDK's deselection, run only when a field is deselected",
    ),
    Pinned(
        Stream,
        "_sync_records",
        "(self, context: 'types.Context | None' = None, *, write_messages: 'bool' = True) "
        "-> 't.Generator[dict, t.Any, t.Any]'",
        "the records a BATCH file holds, then put through the stream maps (meltano/sdk#1117)",
    ),
    Pinned(
        _batch,
        "BatchConfig",
        "(encoding: 'BaseBatchFileEncoding', storage: 'StorageTarget', batch_size: 'int' = "
        "10000) -> None",
        "the type of `get_batches`' argument (annotations only)",
    ),
    Pinned(
        _batch,
        "BaseBatchFileEncoding",
        "(format: 'str', compression: 'str | None' = None) -> None",
        "the type `get_batches` yields (annotations only)",
    ),
    Pinned(
        _dict_config,
        "parse_environment_config",
        "(config_schema: 'dict[str, t.Any]', prefix: 'str', dotenv_path: 'StrPath | None' = "
        "None) -> 'dict[str, t.Any]'",
        "the SDK's reading of settings from the environment (.env included), numbers retyped",
    ),
    Pinned(
        _classproperty,
        "classproperty",
        "(fget=None, fset=None, fdel=None, doc=None)",
        "the SDK's own decorator of `_env_var_config`, which we override",
    ),
)


def _package(obj: type | ModuleType) -> str:
    return (obj.__name__ if isinstance(obj, ModuleType) else obj.__module__).split(".")[0]


def _is_sdk(obj: type | ModuleType) -> bool:
    return _package(obj) == "singer_sdk"


def _is_ours(obj: type | ModuleType) -> bool:
    return _package(obj) in OUR_PACKAGES


def _label(obj: type | ModuleType) -> str:
    return obj.__name__ if isinstance(obj, ModuleType) else f"{obj.__module__}.{obj.__qualname__}"


@cache
def _our_modules() -> tuple[ModuleType, ...]:
    modules = []
    for package_name in OUR_PACKAGES:
        package = importlib.import_module(package_name)
        modules.append(package)
        for info in pkgutil.walk_packages(package.__path__, f"{package_name}."):
            modules.append(importlib.import_module(info.name))
    return tuple(modules)


def _our_sdk_classes() -> list[type]:
    """Our classes with a singer-sdk class among their bases."""
    return [
        cls
        for module in _our_modules()
        for cls in vars(module).values()
        if inspect.isclass(cls)
        and cls.__module__ == module.__name__
        and any(_is_sdk(base) for base in cls.__mro__)
    ]


@cache
def _source_tree(cls: type) -> ast.AST | None:
    try:
        return ast.parse(textwrap.dedent(inspect.getsource(cls)))
    except (OSError, TypeError):
        return None


def _self_attributes(cls: type, *, stored: bool) -> set[str]:
    """Names the class's own source stores as (or, stored=False, reads from) `self.<name>`."""
    tree = _source_tree(cls)
    if tree is None:
        return set()
    context = ast.Store if stored else ast.Load
    return {
        node.attr
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and isinstance(node.ctx, context)
        and isinstance(node.value, ast.Name)
        and node.value.id == "self"
    }


def _defined(cls: type) -> set[str]:
    """Private names a class itself defines: methods, class and instance attributes."""
    names = set(vars(cls)) | set(vars(cls).get("__annotations__", {}))
    names |= _self_attributes(cls, stored=True)
    return {n for n in names if n.startswith("_") and not n.startswith("__") and n not in IGNORED}


def _sdk_signature(owner: type | ModuleType, name: str) -> str | None:
    """What `name` is in the installed singer-sdk, looked up from `owner`; None if gone."""
    if isinstance(owner, ModuleType):
        found = getattr(owner, name, None)
        return None if found is None else str(inspect.signature(found))
    for base in owner.__mro__:
        if not _is_sdk(base):
            continue
        if name in vars(base):
            value = vars(base)[name]
            if isinstance(value, property | cached_property):
                return type(value).__name__
            if callable(value) or isinstance(value, staticmethod | classmethod):
                return str(inspect.signature(getattr(owner, name)))
            return "attribute"
        if name in _defined(base):
            return "attribute"
    return None


def _sdk_base(ours: type, cls: type) -> type:
    """The SDK class `ours` (a class of ours in `cls`'s MRO) builds on: its own first SDK
    base, or `cls`'s when `ours` is a plain mixin."""
    for base in (*ours.__mro__, *cls.__mro__):
        if _is_sdk(base):
            return base
    raise AssertionError(f"{cls} has no singer-sdk base")


def _overrides() -> dict[tuple[type, str], set[str]]:
    """(SDK class, name) -> our `module.Class.name` that define a name the SDK class has."""
    found: dict[tuple[type, str], set[str]] = defaultdict(set)
    for cls in _our_sdk_classes():
        for ours in (k for k in cls.__mro__ if _is_ours(k)):
            sdk = _sdk_base(ours, cls)
            for name in _defined(ours):
                if _sdk_signature(sdk, name) is not None:
                    found[sdk, name].add(f"{_label(ours)}.{name}")
    return found


def _uses() -> dict[tuple[type | ModuleType, str], set[str]]:
    """SDK private names our code reads from `self` without defining them, or imports."""
    found: dict[tuple[type | ModuleType, str], set[str]] = defaultdict(set)
    for cls in _our_sdk_classes():
        ours = [k for k in cls.__mro__ if _is_ours(k)]
        defined = {name for k in ours for name in _defined(k)}
        for k in ours:
            sdk = _sdk_base(k, cls)
            for name in _self_attributes(k, stored=False) - defined:
                private = name.startswith("_") and not name.startswith("__")
                if private and _sdk_signature(sdk, name) is not None:
                    found[sdk, name].add(_label(k))
    for module in _our_modules():
        for node in ast.walk(ast.parse(Path(module.__file__ or "").read_text())):
            source = (node.module or "") if isinstance(node, ast.ImportFrom) else ""
            for alias in node.names if source.split(".")[0] == "singer_sdk" else []:
                if any(part.startswith("_") for part in [*source.split("."), alias.name]):
                    found[importlib.import_module(source), alias.name].add(module.__name__)
    return found


def _key(pinned: Pinned) -> tuple[type | ModuleType, str]:
    return pinned.owner, pinned.name


def _where(found: dict[t.Any, set[str]], pinned: Pinned) -> str:
    """Our definitions (or uses) of the pinned name, found even when the SDK dropped it."""
    ours = found.get(_key(pinned)) or {
        f"{_label(k)}.{pinned.name}"
        for cls in _our_sdk_classes()
        for k in cls.__mro__
        if _is_ours(k) and pinned.name in _defined(k) | _self_attributes(k, stored=False)
    }
    return ", ".join(sorted(ours)) or f"our {pinned.name}"


def test_every_private_override_is_pinned() -> None:
    pinned = {_key(p) for p in OVERRIDDEN}
    new = [
        f"{', '.join(sorted(ours))} overrides singer-sdk's private {sdk.__qualname__}.{name} "
        f"{_sdk_signature(sdk, name)}, which OVERRIDDEN does not list: add it to the table "
        "with why"
        for (sdk, name), ours in sorted(_overrides().items(), key=str)
        if (sdk, name) not in pinned
    ]
    assert not new, "\n".join(new)


def test_every_private_sdk_name_we_use_is_pinned() -> None:
    pinned = {_key(p) for p in USED}
    new = [
        f"{', '.join(sorted(ours))} uses singer-sdk's private {_label(owner)}.{name} "
        f"{_sdk_signature(owner, name)}, which USED does not list: add it to the table with why"
        for (owner, name), ours in sorted(_uses().items(), key=str)
        if (owner, name) not in pinned
    ]
    assert not new, "\n".join(new)


@pytest.mark.parametrize("pinned", OVERRIDDEN, ids=lambda p: f"{p.owner.__name__}.{p.name}")
def test_overridden_sdk_method_unchanged(pinned: Pinned) -> None:
    found = _overrides()
    assert _key(pinned) in found or _sdk_signature(pinned.owner, pinned.name) is None, (
        f"OVERRIDDEN lists {pinned.owner.__name__}.{pinned.name}, which none of our classes "
        "overrides any more: remove it from the table"
    )
    _check_signature(pinned, _where(found, pinned), "a private method we override")


@pytest.mark.parametrize("pinned", USED, ids=lambda p: f"{p.owner.__name__}.{p.name}")
def test_used_sdk_name_unchanged(pinned: Pinned) -> None:
    found = _uses()
    assert _key(pinned) in found or _sdk_signature(pinned.owner, pinned.name) is None, (
        f"USED lists {_label(pinned.owner)}.{pinned.name}, which our code no longer uses: "
        "remove it from the table"
    )
    _check_signature(pinned, _where(found, pinned), "a private name we use")


def _check_signature(pinned: Pinned, where: str, what: str) -> None:
    now = _sdk_signature(pinned.owner, pinned.name)
    installed = importlib.metadata.version("singer-sdk")
    assert now == pinned.signature, (
        f"singer-sdk changed {what}; review {where} before upgrading.\n"
        f"  {_label(pinned.owner)}.{pinned.name} (ours: {pinned.why})\n"
        f"  pinned, singer-sdk {PINNED_VERSION}: {pinned.signature}\n"
        f"  installed, singer-sdk {installed}: {now or 'gone'}"
    )


def test_sdk_gzips_jsonl_batches_whatever_the_setting_says(tmp_path: Path) -> None:
    """The SDK behaviour `sdk_overrides.check_batch_encoding` rests on: its JSON Lines batcher
    gzips a file whatever `encoding.compression` says. When the SDK honours `none`, this fails
    and the check can let it through."""
    config = _batch.BatchConfig.from_dict(
        {
            "encoding": {"format": "jsonl", "compression": "none"},
            "storage": {"root": f"file://{tmp_path}"},
        }
    )
    batcher = Batcher(tap_name="tap-oracle-wms", stream_name="s", batch_config=config)
    (manifest,) = list(batcher.get_batches(records=iter([{"id": 1}])))
    (uri,) = manifest
    raw = Path(uri.removeprefix("file://")).read_bytes()
    assert raw[:2] == b"\x1f\x8b"  # gzip's magic number
    assert json.loads(gzip.decompress(raw)) == {"id": 1}
