"""deploy/docker: the multi-target Dockerfile, its context filter, requirements and healthcheck.

No Docker engine runs on the test machines, so the images are not built here; these checks
parse the Dockerfile and hold it to what the images must be: one target per service, non-root,
no build tools at run time, ports and module names as the services define them, WordNet in the
lexicon image, the CUDA variant on the CUDA build of torch.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import importlib
import importlib.util
import json
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from deploy_checks import DEPLOY, PYPROJECT, REPOSITORY, ROOT, SERVICES, free_port

DOCKERFILE = DEPLOY / "docker" / "Dockerfile"
IGNORE = DEPLOY / "docker" / "Dockerfile.dockerignore"
TARGETS = {"gateway": "gateway", "lexicon": "lexicon", "explanation": "explanation",
           "embedding": "embedding", "embedding-cuda": "embedding"}
BUILD_TOOLS = ("build-essential", "gcc", "g++", "make", "clang", "cmake")


@dataclass
class Stage:
    name: str
    base: str
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def all(self, keyword: str) -> list[str]:
        return [args for kw, args in self.instructions if kw == keyword]


def parse(text: str) -> tuple[dict[str, str], list[Stage]]:
    """Global ARGs and the stages, with continuation lines joined and comments dropped."""
    lines, current = [], ""
    for raw in text.splitlines():
        if raw.lstrip().startswith("#") and not current:
            continue
        if raw.rstrip().endswith("\\"):
            current += raw.rstrip()[:-1] + " "
            continue
        current += raw
        if current.strip():
            lines.append(current.strip())
        current = ""
    args: dict[str, str] = {}
    stages: list[Stage] = []
    for line in lines:
        keyword, _, rest = line.partition(" ")
        keyword = keyword.upper()
        if keyword == "FROM":
            m = re.match(r"^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$", rest, re.I)
            assert m, f"cannot parse FROM {rest}"
            stages.append(Stage(m[2] or f"stage{len(stages)}", m[1]))
        elif not stages:
            assert keyword == "ARG", f"{keyword} before the first FROM"
            name, _, default = rest.partition("=")
            args[name] = default
        else:
            stages[-1].instructions.append((keyword, rest.strip()))
    return args, stages


ARGS, STAGES = parse(DOCKERFILE.read_text())
BY_NAME = {s.name: s for s in STAGES}


def chain(name: str) -> list[Stage]:
    """The stage and its ancestors, nearest first."""
    out = []
    while name in BY_NAME:
        out.append(BY_NAME[name])
        name = BY_NAME[name].base
    return out


def effective(name: str, keyword: str) -> list[str]:
    """Every `keyword` instruction a target inherits, oldest first."""
    return [a for stage in reversed(chain(name)) for a in stage.all(keyword)]


def env_of(name: str) -> dict[str, str]:
    env = {}
    for args in effective(name, "ENV"):
        for key, value in re.findall(r"(\w+)=(\S*)", args):
            env[key] = value
    return env


def config_defaults(service: str) -> dict[str, object]:
    from cliplens.core.config import ServiceConfig

    module = importlib.import_module(f"cliplens.{service}.config")
    (cls,) = [c for c in vars(module).values() if isinstance(c, type)
              and issubclass(c, ServiceConfig) and c is not ServiceConfig]
    return {f.name: f.default for f in dataclasses.fields(cls)}


def test_one_target_per_service_image():
    assert set(TARGETS) <= set(BY_NAME)
    assert set(TARGETS.values()) == set(SERVICES)
    for target in TARGETS:
        # Runtime images descend from the bare Python image, never from a builder.
        assert [s.name for s in chain(target)][-2:] == ["runtime", "base"], target
        assert chain(target)[-1].base == "${PYTHON_IMAGE}"


def test_base_images_are_pinned():
    for stage in STAGES:
        base = stage.base
        if base in BY_NAME:
            continue
        image = ARGS.get(base[2:-1], "") if base.startswith("${") else base
        assert ":" in image and not image.endswith(":latest"), f"{stage.name}: {image}"


@pytest.mark.parametrize("target", TARGETS)
def test_runs_as_a_non_root_user(target):
    users = effective(target, "USER")
    assert users, f"{target} runs as root (no USER)"
    uid = users[-1].split(":")[0]
    assert uid not in ("root", "0") and (not uid.isdigit() or int(uid) >= 1000), users[-1]


@pytest.mark.parametrize("target", TARGETS)
def test_no_build_tools_or_installs_at_run_time(target):
    for stage in chain(target):
        for run in stage.all("RUN"):
            assert "pip install" not in run, f"{stage.name}: {run}"
            installs = re.findall(r"apt-get install[^&;]*", run)
            for install in installs:
                assert not any(re.search(rf"(^|\s){re.escape(t)}(\s|$)", install)
                               for t in BUILD_TOOLS), f"{stage.name}: {install}"


@pytest.mark.parametrize("target", TARGETS)
def test_starts_the_service_module_on_its_ports(target):
    service = TARGETS[target]
    entry = json.loads(effective(target, "ENTRYPOINT")[-1])
    cmd = json.loads(effective(target, "CMD")[-1])
    assert entry == ["python", "-m"] and cmd == [f"cliplens.{service}"]
    assert importlib.util.find_spec(f"cliplens.{service}.__main__"), f"no cliplens.{service}"
    defaults = config_defaults(service)
    exposed = {int(p) for args in effective(target, "EXPOSE") for p in args.split()}
    assert exposed == {defaults["port"], defaults["metrics_port"]}
    env = env_of(target)
    prefix = f"CLIPLENS_{service.upper()}_"
    assert env[f"{prefix}HOST"] == "0.0.0.0" and env[f"{prefix}METRICS_HOST"] == "0.0.0.0"
    (health,) = BY_NAME[target].all("HEALTHCHECK")
    assert health.endswith(f'CMD ["python", "/opt/cliplens/healthcheck.py", "{defaults["port"]}"]')


def test_copies_come_from_earlier_stages_or_the_context():
    seen: set[str] = set()
    ignore = IGNORE.read_text().splitlines()
    for stage in STAGES:
        for keyword, args in stage.instructions:
            if keyword not in ("COPY", "ADD"):
                continue
            assert keyword == "COPY", f"{stage.name}: use COPY, not ADD"
            parts = args.split()
            source_from = [p.split("=", 1)[1] for p in parts if p.startswith("--from=")]
            paths = [p for p in parts if not p.startswith("--")][:-1]
            if source_from:
                assert source_from[0] in seen, f"{stage.name}: --from={source_from[0]} unknown"
                continue
            for path in paths:
                assert (ROOT / path).exists(), f"{stage.name}: COPY {path}: not in the repository"
                assert not excluded(path, ignore), f"{stage.name}: COPY {path} is dockerignored"
        seen.add(stage.name)


def excluded(path: str, patterns: list[str]) -> bool:
    """Docker's rule: the last pattern matching the path or one of its parents decides."""
    parts = Path(path).parts
    candidates = ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]
    verdict = False
    for raw in patterns:
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        negate = line.startswith("!")
        pattern = line.lstrip("!").rstrip("/")
        variants = {pattern, pattern.removeprefix("**/")}
        if any(fnmatch.fnmatchcase(c, v) for c in candidates for v in variants):
            verdict = not negate
    return verdict


def test_dockerignore_keeps_the_local_environment_out():
    patterns = IGNORE.read_text().splitlines()
    for path in (".venv/bin/python", ".git/HEAD", ".cache/buf", "tests/conftest.py",
                 "services/core/__pycache__/x.pyc", "cliplens.egg-info/PKG-INFO"):
        assert excluded(path, patterns), path
    for path in ("pyproject.toml", "services/toyworld/model/toyworld.json",
                 "services/embedding/models/toyworld.yaml", "deploy/docker/healthcheck.py"):
        assert not excluded(path, patterns), path


def test_lexicon_image_carries_wordnet_prepared_for_nltk():
    wordnet = BY_NAME["wordnet"]
    installs = " ".join(r for r in wordnet.all("RUN") if "apt-get install" in r)
    # The same Debian packages scripts/setup.sh installs for a local run.
    setup = (ROOT / "scripts" / "setup.sh").read_text()
    wanted = re.search(r"apt_install (wordnet[^\n]*)", setup)[1].split()
    assert all(pkg in installs for pkg in wanted), wanted
    assert any("cliplens.lexicon.setup" in r for r in wordnet.all("RUN"))
    env = env_of("lexicon")
    nltk = env["CLIPLENS_NLTK_DATA"]
    assert any(f"--from=wordnet {nltk} {nltk}" in c for c in BY_NAME["lexicon"].all("COPY"))
    # The prepared index is built where the lexicon image looks for it, and copied there.
    index = env["CLIPLENS_LEXICON_WORDNET_INDEX"]
    assert env_of("wordnet")["CLIPLENS_LEXICON_WORDNET_INDEX"] == index
    folder = index.rsplit("/", 1)[0]
    assert any(f"--from=wordnet {folder} {folder}" in c for c in BY_NAME["lexicon"].all("COPY"))
    assert all("nltk_data" not in c for t in TARGETS if t != "lexicon"
               for c in BY_NAME[t].all("COPY"))


def test_cuda_variant_uses_the_cuda_build_and_nvml():
    cuda = " ".join(BY_NAME["embedding-cuda"].all("COPY"))
    cpu = " ".join(BY_NAME["embedding"].all("COPY"))
    assert "--from=venv-cuda" in cuda and "--from=venv-cpu" not in cuda
    assert "--from=venv-cpu" in cpu
    assert "requirements-gpu.txt" in " ".join(BY_NAME["venv-cuda"].all("RUN"))
    assert "TORCH_INDEX_URL" not in " ".join(BY_NAME["venv-cuda"].all("RUN"))
    env = env_of("embedding-cuda")
    assert set(env["NVIDIA_DRIVER_CAPABILITIES"].split(",")) >= {"compute", "utility"}
    assert env["CLIPLENS_EMBEDDING_DEVICE"] == "cuda"
    assert env["CLIPLENS_EMBEDDING_PRECISION"] == "fp16"
    assert env_of("embedding")["CLIPLENS_EMBEDDING_DEVICE"] == "cpu"


def test_sources_are_readable_by_the_runtime_user():
    for stage in ("venv-cpu", "venv-cuda"):
        runs = " ".join(BY_NAME[stage].all("RUN"))
        assert "chmod -R a+rX,go-w /opt/cliplens/app" in runs, stage
        assert "compileall" in runs, stage


def test_writable_paths_exist_for_the_non_root_user():
    runtime = " ".join(BY_NAME["runtime"].all("RUN"))
    for target in TARGETS:
        env = env_of(target)
        for key in ("CLIPLENS_LEXICON_DATABASE", "CLIPLENS_EXPLANATION_CACHE_DIR",
                    "CLIPLENS_EMBEDDING_ONNX_DIR"):
            if key in env:
                top = "/".join(env[key].split("/")[:4])  # /var/lib/cliplens, /var/cache/cliplens
                assert top in runtime and "-o 10001" in runtime, (target, key)


# -- requirements.py --------------------------------------------------------------------------


def _requirements():
    spec = importlib.util.spec_from_file_location("requirements_script",
                                                  DEPLOY / "docker" / "requirements.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_requirements_are_pyprojects_pins():
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    req = _requirements()
    deps = req.requirements(str(ROOT / "pyproject.toml"))
    assert deps == project["dependencies"]
    assert all("==" in d for d in deps)
    assert req.requirements(str(ROOT / "pyproject.toml"), "gpu") == [
        d for d in project["optional-dependencies"]["gpu"]]
    with pytest.raises(KeyError, match="nosuch"):
        req.requirements(str(ROOT / "pyproject.toml"), "nosuch")
    out = subprocess.run([sys.executable, str(DEPLOY / "docker" / "requirements.py"),
                          str(ROOT / "pyproject.toml")], capture_output=True, text=True,
                         check=True).stdout
    assert out.splitlines() == deps


# -- healthcheck.py ---------------------------------------------------------------------------


def _healthcheck(port: int) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(DEPLOY / "docker" / "healthcheck.py"), str(port),
                           "--timeout", "5"], capture_output=True, text=True, timeout=60)


def test_healthcheck_follows_the_servers_readiness(serve):
    import asyncio
    import threading
    import time

    from cliplens.core.config import ServiceConfig
    from cliplens.core.server import start_server

    gate = threading.Event()

    async def warmup():
        await asyncio.to_thread(gate.wait, 60)

    running = serve(lambda: start_server(ServiceConfig(port=0, metrics_port=-1), name="probe",
                                         register=lambda server: [], warmup=warmup),
                    wait_ready=False)
    try:
        warming = _healthcheck(running.port)
        assert warming.returncode == 1 and "NOT_SERVING" in warming.stderr
    finally:
        gate.set()
    deadline = time.monotonic() + 30
    while not running.ready.is_set() and time.monotonic() < deadline:
        time.sleep(0.05)
    ready = _healthcheck(running.port)
    assert ready.returncode == 0 and ": SERVING" in ready.stderr
    down = _healthcheck(free_port())
    assert down.returncode == 1 and "UNREACHABLE" in down.stderr


OCI = "org.opencontainers.image."


def labels_of(name: str) -> dict[str, str]:
    """The labels a stage's image carries: its own and those of the stages it starts from."""
    labels: dict[str, str] = {}
    for args in effective(name, "LABEL"):
        for key, value in re.findall(r'([\w.-]+)="([^"]*)"', args):
            labels[key] = value
    return labels


@pytest.mark.parametrize("stage", [s.name for s in STAGES])
def test_every_stage_carries_the_oci_labels(stage):
    labels = labels_of(stage)
    assert labels[f"{OCI}source"] == "${SOURCE}"
    assert labels[f"{OCI}version"] == "${VERSION}"
    assert labels[f"{OCI}licenses"] == PYPROJECT["project"]["license"]["text"]
    assert labels[f"{OCI}title"].startswith("cliplens-")
    if stage in TARGETS:
        # The commit, last: a new revision must not invalidate the layers before it.
        assert labels[f"{OCI}revision"] == "${REVISION}"
        kinds = [kw for kw, _ in BY_NAME[stage].instructions]
        assert kinds[-2:] == ["ARG", "LABEL"] and BY_NAME[stage].instructions[-2][1] == (
            "REVISION"), stage
    # A global ARG is empty inside a stage unless the stage declares it again.
    for stage_ in chain(stage):
        used = set(re.findall(r"\$\{(\w+)\}", " ".join(stage_.all("LABEL"))))
        declared = {n for a in stage_.all("ARG") for n in a.split()}
        assert used <= declared, f"{stage_.name}: LABEL uses {sorted(used - declared)} undeclared"


def test_oci_label_defaults_are_the_projects():
    assert ARGS["VERSION"] == PYPROJECT["project"]["version"]
    assert ARGS["SOURCE"] == REPOSITORY
    assert ARGS["REVISION"]  # the build passes the commit: --build-arg REVISION=...
    titles = {labels_of(t)[f"{OCI}title"] for t in TARGETS}
    assert titles == {f"cliplens-{t}" for t in TARGETS}
