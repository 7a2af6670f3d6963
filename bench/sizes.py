"""Unzipped size of every function and layer, as `sam build` makes them (what Lambda unpacks at cold start).

Built into the benchmark's temporary directory; SAM's build cache is kept in .aws-sam/bench-cache so that a
second run only rebuilds what changed. Needs a python3.13 on PATH (the venv's comes first) and PyPI (the
layer's packages are downloaded for arm64); no Docker.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, TextIO

from local import sam_template

ROOT = sam_template.ROOT
CACHE = ROOT / ".aws-sam" / "bench-cache"
_BUILD_TIMEOUT_SECONDS = 240
_LARGEST = 5  # top-level entries of a layer worth naming


def _size(path: Path) -> int:
    total = 0
    for directory, _, files in os.walk(path):
        for name in files:
            file = Path(directory) / name
            if not file.is_symlink():
                total += file.stat().st_size
    return total


def _bytecode(path: Path) -> tuple[int, int]:
    """(modules with compiled bytecode beside them, modules)."""
    sources = list(path.rglob("*.py"))
    compiled = sum(1 for source in sources if any(source.parent.glob(f"__pycache__/{source.stem}.cpython-3*.pyc")))
    return compiled, len(sources)


# What the python3.13 runtime provides: a copy in a layer only costs space and shadows the runtime's.
RUNTIME_PACKAGES = ("boto3", "botocore", "jmespath", "dateutil", "urllib3", "s3transfer", "six")


def _largest_entries(layer: Path) -> list[tuple[str, int]]:
    site = layer / "python"
    entries = [(entry.name, _size(entry) if entry.is_dir() else entry.stat().st_size) for entry in site.iterdir()]
    return sorted(entries, key=lambda entry: -entry[1])[:_LARGEST]


def measure(workdir: Path) -> dict[str, Any]:
    bin_dir = Path(sys.executable).parent
    sam = shutil.which("sam", path=str(bin_dir)) or shutil.which("sam")
    if sam is None:
        return {"skipped": "the SAM CLI is not installed (it is in requirements-dev.txt: run `make venv`)"}
    build_dir = workdir / "build"
    command = [sam, "build", "--build-dir", str(build_dir), "--cached", "--cache-dir", str(CACHE), "--parallel"]
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}", "SAM_CLI_TELEMETRY": "0"}
    env.pop("AWS_ENDPOINT_URL", None)
    started = time.monotonic()
    try:
        built = subprocess.run(
            command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=_BUILD_TIMEOUT_SECONDS, check=False
        )
    except subprocess.TimeoutExpired:
        return {"skipped": f"sam build took more than {_BUILD_TIMEOUT_SECONDS} s"}
    seconds = time.monotonic() - started
    if built.returncode != 0:
        tail = (built.stderr or built.stdout).strip().splitlines()[-8:]
        return {"skipped": "sam build failed: " + " / ".join(tail)}

    resources = sam_template.load()["Resources"]
    rows = []
    for name, resource in resources.items():
        artifact = build_dir / name
        if resource.get("Type") not in ("AWS::Serverless::Function", "AWS::Serverless::LayerVersion"):
            continue
        if not artifact.is_dir():
            continue
        row: dict[str, Any] = {"resource": name, "kind": resource["Type"].rsplit("::", 1)[1], "bytes": _size(artifact)}
        if row["kind"] == "LayerVersion":
            row["largest"] = _largest_entries(artifact)
            row["compiled"], row["modules"] = _bytecode(artifact)
            site = artifact / "python"
            row["runtime_packages"] = [
                name for name in RUNTIME_PACKAGES if (site / name).exists() or (site / f"{name}.py").exists()
            ]
        rows.append(row)
    return {"build_seconds": seconds, "artifacts": rows}


def print_report(result: dict[str, Any], out: TextIO) -> None:
    out.write("\n7. Unzipped size after `sam build` (arm64)\n")
    if "skipped" in result:
        out.write(f"   skipped: {result['skipped']}\n")
        return
    mib = 1024 * 1024
    for row in result["artifacts"]:
        size = f"{row['bytes'] / mib:8.2f} MiB" if row["bytes"] >= mib else f"{row['bytes'] / 1024:8.1f} KiB"
        out.write(f"   {row['resource']:32} {row['kind']:14} {size}\n")
        if "modules" in row:
            shipped = ", ".join(row["runtime_packages"]) or "none"
            out.write(
                f"   {'':32} {'':14} bytecode for {row['compiled']} of {row['modules']} modules; "
                f"the runtime's own packages in it: {shipped}\n"
            )
        for entry, size in row.get("largest", []):
            out.write(f"   {'':32} {'':14} {size / mib:8.2f}   {entry}\n")
    out.write(f"   (sam build took {result['build_seconds']:.0f} s)\n")
