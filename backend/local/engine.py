"""The container engine on this machine (podman or Docker) and the images local mode runs models in.

`python -m local.engine` builds what is missing: a Python base made with debootstrap (no image
registry is reachable; its tarball is cached under ~/.cache/kraken) and the runner image from
backend/runner/Dockerfile through its PYTHON_IMAGE build argument. Both are named by the hash of
what they are built from, so a changed recipe or runner is rebuilt and an unchanged one never is.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
RUNNER_DIR = REPO_ROOT / "backend" / "runner"
CONTAINERS_DIR = REPO_ROOT / "containers"
# The project's own engine settings (runc, cgroupfs, no ulimits): the machine's /etc/containers stays as it is.
CONTAINERS_CONF = CONTAINERS_DIR / "containers.conf"
BASE_RECIPE = CONTAINERS_DIR / "python-base.sh"
CACHE_DIR = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "kraken"
RUNTIME_SETTING = "KRAKEN_LOCAL_RUNTIME"  # process, container or auto (the default)
ENGINE_SETTING = "KRAKEN_CONTAINER_ENGINE"  # podman or docker; unset: the first that works
CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"
PROBE_SECONDS = 10
BUILD_SECONDS = 1800


class EngineUnavailable(Exception):
    """No container engine works here, or the runner image cannot be had; the message says why."""


@dataclass(frozen=True)
class Engine:
    """A working container engine's command, with the environment its every call needs."""

    command: str  # "podman" or "docker"

    @property
    def environment(self) -> dict[str, str]:
        if self.command == "podman":
            return {**os.environ, "CONTAINERS_CONF": str(CONTAINERS_CONF)}
        return dict(os.environ)

    def run(self, *args: str, timeout: float = PROBE_SECONDS, check: bool = False) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [self.command, *args], env=self.environment, capture_output=True, text=True, timeout=timeout, check=check
        )

    def has_image(self, image: str) -> bool:
        return self.run("image", "inspect", "--format", "{{.Id}}", image).returncode == 0


def find_engine() -> Engine:
    """The first engine that answers (podman before Docker), or EngineUnavailable saying what was tried."""
    wanted = os.environ.get(ENGINE_SETTING, "").strip()
    tried = []
    for command in [wanted] if wanted else ["podman", "docker"]:
        if shutil.which(command) is None:
            tried.append(f"{command} is not installed")
            continue
        engine = Engine(command)
        try:
            answered = engine.run("info", "--format", "{{.Host.OCIRuntime.Name}}" if command == "podman" else "{{.ID}}")
        except (OSError, subprocess.TimeoutExpired):
            tried.append(f"{command} info did not answer")
            continue
        if answered.returncode == 0:
            return engine
        tried.append(f"{command} info failed: {(answered.stderr.strip().splitlines() or ['?'])[-1]}")
    raise EngineUnavailable("; ".join(tried))


def _digest(*paths: Path) -> str:
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:12]


def base_image() -> str:
    return f"localhost/kraken-python-base:{_digest(BASE_RECIPE)}"


def runner_image() -> str:
    """The runner image's tag for what backend/runner holds now (and the base it is built on)."""
    sources = sorted(p for p in RUNNER_DIR.iterdir() if p.is_file() and p.suffix in {".py", ".txt", ""})
    return f"localhost/kraken-runner:{_digest(BASE_RECIPE, *sources)}"


def _ensure_base(engine: Engine) -> str:
    image = base_image()
    if engine.has_image(image):
        return image
    tarball = CACHE_DIR / f"python-base-{image.rsplit(':', 1)[1]}.tar"
    if not tarball.exists():
        if shutil.which("debootstrap") is None or os.geteuid() != 0:
            raise EngineUnavailable("building the Python base needs root and debootstrap (apt-get install debootstrap)")
        print(f"Building the Python base image with debootstrap (about a minute, once): {tarball}", flush=True)
        CACHE_DIR.mkdir(parents=True, exist_ok=True)
        subprocess.run(["bash", str(BASE_RECIPE), str(tarball)], check=True, timeout=BUILD_SECONDS)
    engine.run("import", str(tarball), image, timeout=BUILD_SECONDS, check=True)
    return image


def ca_bundle_arguments(engine: Engine) -> list[str]:
    """What a podman build needs to reach the package indexes through this machine's CA bundle."""
    if engine.command != "podman" or not Path(CA_BUNDLE).exists():
        return []
    return ["--volume", f"{CA_BUNDLE}:{CA_BUNDLE}:ro", "--env", f"PIP_CERT={CA_BUNDLE}"]


def ensure_runner_image(engine: Engine) -> str:
    """The runner image, built from backend/runner/Dockerfile on the local base when it is missing."""
    image = runner_image()
    if engine.has_image(image):
        return image
    base = _ensure_base(engine)
    print(f"Building the runner image {image} from backend/runner/Dockerfile ...", flush=True)
    # No registry is reachable but the package indexes are: the build uses the host's network and CA bundle.
    built = subprocess.run(
        [
            engine.command,
            "build",
            "--network",
            "host",
            "--build-arg",
            f"PYTHON_IMAGE={base}",
            *ca_bundle_arguments(engine),
            "--format",  # Docker's image format keeps the Dockerfile's HEALTHCHECK, as on AWS
            "docker",
            "--tag",
            image,
            str(RUNNER_DIR),
        ],
        env=engine.environment,
        timeout=BUILD_SECONDS,
        check=False,
    )
    if built.returncode != 0:
        raise EngineUnavailable(f"building {image} failed (exit code {built.returncode}); see the output above")
    return image


def main() -> int:
    try:
        ensure_runner_image(find_engine())
    except (EngineUnavailable, subprocess.CalledProcessError, subprocess.TimeoutExpired) as error:
        print(f"no runner image: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
