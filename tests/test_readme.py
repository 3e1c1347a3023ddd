"""Every command in README.md's `sh` blocks, in order, on a copy of the project, as a user would.

The copy holds the repository's files and shares this checkout's installed `.venv` and Meltano
plugins (symlinks), so nothing is installed again; its own `.meltano` system database, `output/`
and `.env` start empty, as on a fresh clone. What the test changes around the commands, never
in them:

- the simulator's port: `127.0.0.1:8765` in the commands and the copy's `meltano.yml`, and
  `make sim`'s port (`SIM_PORT`), become a free port, so parallel runs do not collide;
- PostgreSQL: tap-postgres and target-postgres get a database made for this run
  (`TAP_POSTGRES_SQLALCHEMY_URL`, `TARGET_POSTGRES_SQLALCHEMY_URL`), dropped afterwards;
- the discovery cache lives in the run's temporary directory (`XDG_CACHE_HOME`).

A trailing comment that starts with a marker tells the test how to run a line:

- `# (another terminal) ...`: a server; started in the background, awaited until it prints its
  `http://` URL, stopped at the end;
- `# (prompts) ...`, `# (real WMS) ...`, `# (network) ...`, `# (the test suite) ...`,
  `# (run by its own test) ...`: cannot run here (or a dedicated test runs it in full); checked
  as a dry run instead: `make -n ...`, `meltano ... run --dry-run ...`, or the
  command with `--help` (its subcommands and options must still parse).

Any other marker fails the test, so a typo cannot silently skip a command.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import BIN, PLUGIN_DIRS, ROOT, outside_this_project

README = ROOT / "README.md"
BACKGROUND = "another terminal"
DRY_RUN = {"prompts", "real WMS", "network", "the test suite", "run by its own test"}
NEW_PROJECT = "new project"  # run in order, in a new directory, by tests/test_install.py
SIM_ADDRESS = "127.0.0.1:8765"


@dataclass(frozen=True)
class Command:
    line: str
    marker: str | None


def _split_comment(line: str) -> tuple[str, str]:
    """(command, comment) of a shell line: the first `#` outside quotes after a blank."""
    quote = ""
    for index, char in enumerate(line):
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "#" and (index == 0 or line[index - 1].isspace()):
            return line[:index].rstrip(), line[index + 1 :].strip()
    return line.rstrip(), ""


def readme_commands(text: str) -> list[Command]:
    commands: list[Command] = []
    for block in re.findall(r"^```sh\n(.*?)^```", text, flags=re.MULTILINE | re.DOTALL):
        for raw in block.splitlines():
            command, comment = _split_comment(raw)
            if not command:
                continue
            marker = re.match(r"\(([^)]*)\)", comment)
            commands.append(Command(command, marker.group(1) if marker else None))
    return commands


def dry_run(line: str) -> str:
    words = shlex.split(line)
    if words[0] == "make":
        return shlex.join(["make", "-n", *words[1:]])
    if words[0] == "meltano" and "run" in words:
        at = words.index("run") + 1
        return shlex.join([*words[:at], "--dry-run", *words[at:]])
    return f"{line} --help"


def test_readme_commands_parse_and_every_marker_is_known() -> None:
    commands = readme_commands(README.read_text())
    assert len(commands) >= 15
    assert any(c.line == "make demo" for c in commands)
    unknown = {c.marker for c in commands} - {None, BACKGROUND, NEW_PROJECT, *DRY_RUN}
    assert not unknown, f"unknown README markers: {unknown}"


def test_dry_runs_keep_the_command() -> None:
    assert dry_run("make test") == "make -n test"
    assert (
        dry_run("meltano --environment prod run tap-oracle-wms target-postgres")
        == "meltano --environment prod run --dry-run tap-oracle-wms target-postgres"
    )
    assert dry_run("meltano config set --interactive tap-oracle-wms") == (
        "meltano config set --interactive tap-oracle-wms --help"
    )
    assert _split_comment('echo \'{"a": "#b"}\' > c  # (x) y') == (
        'echo \'{"a": "#b"}\' > c',
        "(x) y",
    )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _project_copy(root: Path, port: int) -> Path:
    project = root / "project"
    files = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split("\0")
    for name in filter(None, files):
        source = ROOT / name
        if source.is_file():
            (project / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, project / name)
    meltano_yml = project / "meltano.yml"
    meltano_yml.write_text(meltano_yml.read_text().replace(SIM_ADDRESS, f"127.0.0.1:{port}"))
    (project / ".venv").symlink_to(ROOT / ".venv")
    (project / ".meltano").mkdir()
    for kind in PLUGIN_DIRS:
        if (ROOT / ".meltano" / kind).is_dir():
            (project / ".meltano" / kind).symlink_to(ROOT / ".meltano" / kind)
    return project


def _keep_make_from_installing(project: Path) -> None:
    """The copy's make must not reinstall into the shared .venv: its inputs stay older than
    the install stamp (a command such as `meltano config set` edits meltano.yml)."""
    stamp = (ROOT / ".venv" / ".installed-stamp").stat().st_mtime
    for name in ("pyproject.toml", "meltano.yml"):
        os.utime(project / name, (stamp - 60, stamp - 60))


def _wait_for_url(proc: subprocess.Popen[str], log: Path, line: str) -> None:
    """Until the server's output (a file, so a server that logs every request never blocks on
    a pipe nobody reads) shows its URL."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if "http://" in log.read_text(errors="replace"):
            return
        if proc.poll() is not None:
            pytest.fail(f"`{line}` exited with {proc.returncode} before serving")
        time.sleep(0.1)
    pytest.fail(f"`{line}` printed no http:// URL within 120 s")


def _stop(server: subprocess.Popen[str]) -> None:
    """SIGTERM to the server's process group (`make sim` and the simulator under it), then
    SIGKILL if it is not gone within 20 s: no server outlives the test."""
    os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait(timeout=20)


def test_every_readme_command_works_in_order(tmp_path: Path, pg_database: str) -> None:
    port = _free_port()
    project = _project_copy(tmp_path, port)
    pg_url = f"postgresql+psycopg2://postgres:trust@127.0.0.1:5432/{pg_database}"
    path = os.pathsep.join(
        p for p in os.environ["PATH"].split(os.pathsep) if Path(p).resolve() != BIN.resolve()
    )
    env = {
        **outside_this_project(os.environ, "VIRTUAL_ENV", "MAKEFLAGS"),
        "PATH": path,
        "SIM_PORT": str(port),
        "TAP_POSTGRES_SQLALCHEMY_URL": pg_url,
        "TARGET_POSTGRES_SQLALCHEMY_URL": pg_url.replace("psycopg2://", "psycopg://"),
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
        "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    setup: list[str] = []  # `. .venv/bin/activate` and the like: the next commands' shell
    servers: list[subprocess.Popen[str]] = []
    timings: list[tuple[float, str]] = []
    try:
        for command in readme_commands(README.read_text()):
            if command.marker == NEW_PROJECT:
                continue  # outside this project: tests/test_install.py
            line = command.line.replace(SIM_ADDRESS, f"127.0.0.1:{port}")
            _keep_make_from_installing(project)
            if command.marker == BACKGROUND:
                log = tmp_path / f"server-{len(servers)}.log"
                with log.open("w") as output:
                    servers.append(
                        subprocess.Popen(
                            ["bash", "-c", "; ".join([*setup, f"exec {line}"])],
                            cwd=project,
                            env=env,
                            stdout=output,
                            stderr=subprocess.STDOUT,
                            text=True,
                            start_new_session=True,
                        )
                    )
                _wait_for_url(servers[-1], log, line)
                continue
            if line.startswith((". ", "source ", "export ")):
                setup.append(line)
            to_run = dry_run(line) if command.marker in DRY_RUN else line
            print(f"README $ {to_run}", flush=True)
            started = time.monotonic()
            proc = subprocess.run(
                ["bash", "-euo", "pipefail", "-c", "\n".join([*setup, to_run])],
                cwd=project,
                env=env,
                capture_output=True,
                text=True,
                timeout=300,
                check=False,
            )
            timings.append((time.monotonic() - started, to_run))
            output = proc.stdout + proc.stderr
            assert proc.returncode == 0, f"README: `{to_run}` failed:\n{output[-6000:]}"
            assert "Traceback" not in output, f"README: `{to_run}`:\n{output[-6000:]}"
            assert ":trust@" not in output, f"README: `{to_run}` printed the database password"
    finally:
        for server in servers:
            _stop(server)
        print("\nREADME commands, wall time:")
        for seconds, line in timings:
            print(f"{seconds:7.1f} s  {line}")
    # What the commands were meant to leave behind, beyond exiting 0.
    assert (project / "output" / "wms.duckdb").is_file()
    assert (project / "catalog.json").stat().st_size > 0
    assert '"type":"RECORD"' in (project / "messages.jsonl").read_text().replace(" ", "")
