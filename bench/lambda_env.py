"""A function's process as Lambda starts it, built from template.yaml: its sys.path and its environment.

Lambda puts the function's code first on the path, then its layers (built from each layer's requirements.txt),
then the runtime's own packages (boto3 and its dependencies), and nothing else. The dev venv holds far more
(moto, the SAM CLI, awscrt...), and botocore imports awscrt when it can find it: so a child process does not
see the venv at all (`python -S`); it sees a directory per layer and one for the runtime, each holding links
to exactly the distributions that layer or runtime would contain, taken from the venv.
"""

from __future__ import annotations

import importlib.metadata
import os
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from packaging.requirements import Requirement

from local import sam_template

ROOT = sam_template.ROOT
REGION = "eu-west-1"
RUNTIME_PACKAGES = ("boto3",)  # what the python3.13 runtime provides; its dependencies come with it


@dataclass(frozen=True)
class FunctionSpec:
    """What a child process needs to start a function as Lambda would."""

    name: str  # logical id in the template
    code_dir: Path
    handler: str
    sys_path: tuple[str, ...]
    env: dict[str, str]
    memory_mb: int


def _normalised(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


def _closure(requirements: Iterable[str]) -> dict[str, importlib.metadata.Distribution]:
    """The installed distributions `requirements` pull in, with their dependencies (extras not taken)."""
    found: dict[str, importlib.metadata.Distribution] = {}
    pending = [Requirement(line) for line in requirements]
    while pending:
        requirement = pending.pop()
        key = _normalised(requirement.name)
        if key in found:
            continue
        try:
            distribution = importlib.metadata.distribution(requirement.name)
        except importlib.metadata.PackageNotFoundError as exc:
            raise SystemExit(f"{requirement.name} is not installed in .venv: run `make venv`") from exc
        found[key] = distribution
        for dependency in map(Requirement, distribution.requires or []):
            if dependency.marker is None or dependency.marker.evaluate({"extra": ""}):
                pending.append(dependency)
    return found


def _requirement_lines(path: Path) -> list[str]:
    if not path.is_file():
        return []
    lines = (line.split("#", 1)[0].strip() for line in path.read_text(encoding="utf-8").splitlines())
    return [line for line in lines if line and not line.startswith("-")]


def _link_site(directory: Path, distributions: Iterable[importlib.metadata.Distribution]) -> Path:
    """A directory with a link to every top-level module, package and metadata folder of `distributions`."""
    directory.mkdir(parents=True, exist_ok=True)
    for distribution in distributions:
        for file in distribution.files or []:
            top = file.parts[0]
            if top.startswith("..") or top == "__pycache__":
                continue  # scripts installed outside site-packages, stray caches
            link = directory / top
            if not link.exists() and not link.is_symlink():
                link.symlink_to(Path(str(distribution.locate_file(top))).resolve())
    return directory


class Sites:
    """The runtime's site directory and one per layer, made once per benchmark run under `workdir`."""

    def __init__(self, workdir: Path, template: dict[str, Any] | None = None) -> None:
        self.workdir = workdir
        self.template = template or sam_template.load()
        runtime = _closure(RUNTIME_PACKAGES)
        self.runtime_names = set(runtime)
        self.runtime = _link_site(workdir / "runtime", runtime.values())
        self._layers: dict[str, tuple[Path, Path]] = {}

    def layer(self, logical_id: str) -> tuple[Path, Path]:
        """(the layer's own content, its dependencies) for a `AWS::Serverless::LayerVersion`."""
        if logical_id not in self._layers:
            props = self.template["Resources"][logical_id]["Properties"]
            content = ROOT / props["ContentUri"]
            needed = _closure(_requirement_lines(content / "requirements.txt"))
            extra = [dist for key, dist in needed.items() if key not in self.runtime_names]
            self._layers[logical_id] = (content, _link_site(self.workdir / f"layer-{logical_id}", extra))
        return self._layers[logical_id]


def _resolve(value: Any, refs: Mapping[str, str], template: dict[str, Any]) -> str:
    """A template value as the deployed function sees it: `!Ref` of a parameter is its default, of a resource
    the name given in `refs` (or a stand-in); an `!If` whose first value is a `!Ref` of `refs`, that name (the
    benchmark stood the resource up: its condition holds)."""
    if isinstance(value, dict) and "Fn::If" in value:
        held = value["Fn::If"][1]
        if isinstance(held, dict) and held.get("Ref") in refs:
            return refs[held["Ref"]]
    if isinstance(value, dict) and "Ref" in value:
        name = value["Ref"]
        if name in refs:
            return refs[name]
        parameter = template.get("Parameters", {}).get(name)
        if parameter is not None:
            return str(parameter.get("Default", ""))
        return f"bench-{name.lower()}"
    return str(value)


def _layer_ids(props: Mapping[str, Any], globals_: Mapping[str, Any]) -> list[str]:
    # SAM appends a function's own Layers to the global ones.
    listed = [*globals_.get("Layers", []), *props.get("Layers", [])]
    return [layer["Ref"] for layer in listed if isinstance(layer, dict) and "Ref" in layer]


def dynamodb_actions(props: Mapping[str, Any]) -> frozenset[str]:
    """The DynamoDB actions a function's inline IAM statements allow."""
    actions: set[str] = set()
    for policy in props.get("Policies") or []:
        for statement in policy.get("Statement", []) if isinstance(policy, dict) else []:
            listed = statement.get("Action", [])
            actions.update(a for a in ([listed] if isinstance(listed, str) else listed) if a.startswith("dynamodb:"))
    return frozenset(actions)


def function_spec(
    logical_id: str,
    sites: Sites,
    *,
    refs: Mapping[str, str],
    endpoint_url: str,
    xray_address: str,
    code_dir: Path | None = None,
    handler: str | None = None,
    layers: bool = True,
) -> FunctionSpec:
    """The process of `logical_id` (or, with `code_dir`/`handler`, of another code with its settings: the floor)."""
    template = sites.template
    globals_ = template.get("Globals", {}).get("Function", {})
    props = template["Resources"][logical_id]["Properties"]
    code = code_dir or ROOT / props["CodeUri"]
    handler = handler or props.get("Handler", globals_.get("Handler", "app.lambda_handler"))
    memory = int(props.get("MemorySize", globals_.get("MemorySize", 128)))

    path = [str(code)]
    if layers:
        layer_paths = [sites.layer(layer) for layer in _layer_ids(props, globals_)]
        path += [str(content) for content, _ in layer_paths] + [str(site) for _, site in layer_paths]
    path.append(str(sites.runtime))

    variables = {
        **globals_.get("Environment", {}).get("Variables", {}),
        **props.get("Environment", {}).get("Variables", {}),
    }
    name = f"postmask-{logical_id}"
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "en_US.UTF-8",
        "TZ": ":UTC",
        # What the Lambda service sets for every python3.13 function.
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13",
        "AWS_LAMBDA_FUNCTION_NAME": name,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(memory),
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{name}",
        "AWS_LAMBDA_LOG_STREAM_NAME": "bench",
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "LAMBDA_TASK_ROOT": str(code),
        "LAMBDA_RUNTIME_DIR": str(sites.runtime),
        "_HANDLER": handler,
        # Tracing: Active in the template, so Lambda points the X-Ray SDK at its daemon. Here a UDP socket of
        # the benchmark plays the daemon (it counts what arrives: proof that the Tracer was on).
        "AWS_XRAY_DAEMON_ADDRESS": xray_address,
        "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR",
        "_X_AMZN_TRACE_ID": trace_header(),
        # Credentials as the execution role's would be; every AWS call goes to the benchmark's moto server.
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_SESSION_TOKEN": "bench",
        "AWS_ENDPOINT_URL": endpoint_url,
        **{key: _resolve(value, refs, template) for key, value in variables.items()},
    }
    return FunctionSpec(
        name=logical_id,
        code_dir=code,
        handler=handler,
        sys_path=tuple(path),
        env=env,
        memory_mb=memory,
    )


def compile_bytecode(specs: Iterable[FunctionSpec]) -> None:
    """Bytecode for everything on the specs' paths, before any is timed: the deployed layers ship it
    (layers/*/Makefile), and a fresh clone's first cold start would otherwise compile postmask from source."""
    import compileall

    for path in sorted({entry for spec in specs for entry in spec.sys_path}):
        compileall.compile_dir(path, quiet=2, workers=0)


def trace_header() -> str:
    """An `_X_AMZN_TRACE_ID` as Lambda sets it for a sampled request with Active tracing."""
    trace = uuid.uuid4().hex
    return f"Root=1-{trace[:8]}-{trace[8:32]};Parent={uuid.uuid4().hex[:16]};Sampled=1"
