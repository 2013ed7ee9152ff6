"""Build the benchmark corpus: pinned sdists of async-heavy projects plus the stdlib, *.py only."""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
CORPUS = HERE / "corpus"
SDISTS = HERE / ".work" / "sdists"
MANIFEST = CORPUS / "manifest.json"

PINS = (
    ("aiohttp", "3.14.5"),
    ("httpx", "0.28.1"),
    ("httpcore", "1.0.9"),
    ("anyio", "4.16.0"),
    ("trio", "0.35.0"),
    ("uvicorn", "0.54.0"),
    ("starlette", "1.10.0"),
    ("websockets", "17.4"),
    ("redis", "8.1.0"),
    ("tornado", "6.6.1"),
    ("celery", "5.7.0"),
    ("kombu", "5.7.0"),
    ("aiokafka", "0.14.0"),
    ("asyncpg", "0.32.0"),
    ("distributed", "2026.8.0"),
    ("jupyter_server", "2.21.1"),
    ("ipykernel", "7.4.0"),
    ("textual", "8.2.8"),
    ("aiobotocore", "3.10.0"),
)
# Directory names left out of the stdlib copy: its tests and what pip installed.
STDLIB_SKIP = frozenset(
    {"test", "tests", "idle_test", "site-packages", "dist-packages", "__pycache__"}
)


def pip(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pip", *args], capture_output=True, text=True, check=False
    )


def download(name: str, version: str) -> Path | None:
    """The sdist of name==version (kept between runs), or None when the index has none."""
    target = SDISTS / f"{name}-{version}"
    found = sorted(target.glob("*")) if target.is_dir() else []
    if found:
        return found[0]
    target.mkdir(parents=True, exist_ok=True)
    # `--no-binary NAME` rather than `:all:`: the same sdist, but pip may take the
    # build backend (Cython, setuptools) as wheels to read the metadata instead of
    # compiling it first. Nothing is ever built from the downloaded sdist.
    done = pip(
        "download", "--no-deps", "--no-binary", name, f"{name}=={version}", "-d", str(target)
    )
    found = sorted(target.glob("*"))
    if done.returncode != 0 or not found:
        print(f"  pip download {name}=={version} failed:\n{done.stderr.strip()}", file=sys.stderr)
        return None
    return found[0]


def nearest_version(name: str, wanted: str) -> str | None:
    """The newest released version not above `wanted`, else the oldest one above it."""
    listed = pip("index", "versions", name).stdout
    match = re.search(r"Available versions: (.*)", listed)
    if not match:
        return None
    versions = [v.strip() for v in match.group(1).split(",") if v.strip() != wanted]
    key = _version_key(wanted)
    below = [v for v in versions if _version_key(v) <= key]
    above = [v for v in versions if _version_key(v) > key]
    if below:
        return max(below, key=_version_key)
    return min(above, key=_version_key) if above else None


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", version))


def unpack(archive: Path, dest: Path) -> None:
    """Extract only the *.py members, without the archive's top directory."""
    tmp = dest.with_name(dest.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    members: list[tuple[str, bytes]] = []
    if archive.suffix == ".zip":
        with zipfile.ZipFile(archive) as zipped:
            members = [
                (info.filename, zipped.read(info))
                for info in zipped.infolist()
                if info.filename.endswith(".py") and not info.is_dir()
            ]
    else:
        with tarfile.open(archive) as tarred:
            for info in tarred:
                handle = tarred.extractfile(info) if info.isfile() else None
                if handle is not None and info.name.endswith(".py"):
                    members.append((info.name, handle.read()))
    for member, data in members:
        parts = Path(member).parts[1:]
        if not parts or ".." in parts or Path(member).is_absolute():
            continue  # the top directory itself, or a path escaping the target
        out = tmp.joinpath(*parts)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(data)
    shutil.rmtree(dest, ignore_errors=True)
    tmp.rename(dest)


def copy_stdlib(dest: Path) -> None:
    """Copy the running interpreter's pure-Python stdlib without its tests."""
    source = Path(sysconfig.get_paths()["stdlib"])
    tmp = dest.with_name(dest.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    for directory, dirnames, filenames in os.walk(source):
        dirnames[:] = sorted(name for name in dirnames if name not in STDLIB_SKIP)
        for name in filenames:
            if name.endswith(".py"):
                relative = Path(directory, name).relative_to(source)
                (tmp / relative).parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(Path(directory, name), tmp / relative)
    shutil.rmtree(dest, ignore_errors=True)
    tmp.rename(dest)


def mark_root(directory: Path) -> None:
    """Make `directory` a project root of its own for tools that look upward from a file.

    Fixit (through trailrunner) stops at the first pyproject.toml and applies that
    project's .gitignore, which lists bench/corpus/: without this it lints nothing.
    Each project (and the stdlib copy) is a root too, as in its own repository: the
    copies hold only *.py files, and a tool that indexes a file's whole project must
    not take the other projects of the corpus for modules of it.
    """
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "pyproject.toml").write_text(
        "# Marks a project root for the benchmark; it configures nothing.\n",
        encoding="utf-8",
    )


def python_files(directory: Path) -> list[Path]:
    return sorted(path for path in directory.rglob("*.py") if path.is_file())


def count_lines(path: Path) -> int:
    data = path.read_bytes()
    return data.count(b"\n") + (1 if data and not data.endswith(b"\n") else 0)


def fetch_project(name: str, version: str) -> tuple[str, str] | None:
    """Download and unpack one pinned project; (directory name, version used) or None."""
    used = version
    archive = download(name, version)
    if archive is None:
        nearest = nearest_version(name, version)
        archive = download(name, nearest) if nearest else None
        if archive is None or nearest is None:
            print(f"  {name}: no sdist of {version} or a nearby version, left out", file=sys.stderr)
            return None
        print(f"  {name}: {version} cannot be had, using {nearest}", file=sys.stderr)
        used = nearest
    directory = f"{name}-{used}"
    if not (CORPUS / directory).is_dir():
        unpack(archive, CORPUS / directory)
    return directory, used


def load_manifest() -> tuple[list[str], str]:
    """What the last build holds: the project directories and the stdlib directory."""
    if not MANIFEST.is_file():
        sys.exit("no corpus yet: run `python bench/corpus.py` first")
    manifest = json.loads(MANIFEST.read_text(encoding="utf-8"))
    return sorted(manifest["projects"]), str(manifest["stdlib"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, default=3, help="parallel downloads (3)")
    args = parser.parse_args()

    mark_root(CORPUS)
    print(f"downloading {len(PINS)} sdists into {SDISTS} ...", file=sys.stderr)
    with ThreadPoolExecutor(args.jobs) as pool:
        fetched = list(pool.map(lambda pin: fetch_project(*pin), PINS))
    projects = {entry[0]: entry[1] for entry in fetched if entry is not None}

    stdlib = f"stdlib-{sys.version_info.major}.{sys.version_info.minor}.{sys.version_info.micro}"
    if not (CORPUS / stdlib).is_dir():
        copy_stdlib(CORPUS / stdlib)
    for directory in [*projects, stdlib]:
        mark_root(CORPUS / directory)
    MANIFEST.write_text(
        json.dumps({"projects": projects, "stdlib": stdlib}, indent=2) + "\n", encoding="utf-8"
    )

    print("| project | version | files | lines |\n|---|---|---:|---:|")
    total_files = total_lines = 0
    for directory in [*projects, stdlib]:
        files = python_files(CORPUS / directory)
        lines = sum(map(count_lines, files))
        name, _, version = directory.rpartition("-")
        print(f"| {name} | {version} | {len(files):,} | {lines:,} |")
        if directory != stdlib:
            total_files, total_lines = total_files + len(files), total_lines + lines
    print(f"| **projects** | | {total_files:,} | {total_lines:,} |")
    missing = [name for name, _ in PINS if not any(d.startswith(f"{name}-") for d in projects)]
    if missing:
        print(f"\nleft out (no sdist): {', '.join(missing)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
