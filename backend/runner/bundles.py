"""Archive artifacts: a bundle (entry module, its files, an optional requirements.txt) and a zipped MLflow model."""

from __future__ import annotations

import re
import site
import subprocess
import sys
import tarfile
import zipfile
from importlib import metadata
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from runner.errors import LoadFailure, one_line

if TYPE_CHECKING:
    from runner.config import Settings
    from runner.models import Model

ENTRY_MODULE = "model.py"
REQUIREMENTS = "requirements.txt"
MLMODEL = "MLmodel"
_IGNORED_TOP_LEVEL = ("__MACOSX", ".")


def _check_names(names: list[str], label: str) -> None:
    for name in names:
        path = PurePosixPath(name)
        if path.is_absolute() or ".." in path.parts:
            raise LoadFailure(f"{label} archive has an entry outside its root ({one_line(name, 80)!r})")


def _check_size(total: int, limit: int, label: str) -> None:
    if total > limit:
        raise LoadFailure(
            f"{label} archive unpacks to {total} bytes, over the limit of {limit} bytes (KRAKEN_UNPACKED_MAX_BYTES)"
        )


def _extract_plain(bundle: tarfile.TarFile, members: list[tarfile.TarInfo], dest: Path, label: str) -> None:
    """Write only directories and regular files, with default modes: no links, devices or setuid bits.

    By hand rather than `extractall(filter="data")` because that filter is missing from the 3.11.2
    of the Debian base the image is built on locally.
    """
    odd = [member.name for member in members if not (member.isfile() or member.isdir())]
    if odd:
        raise LoadFailure(
            f"{label} archive has links or special files, which are not allowed ({one_line(odd[0], 80)!r})"
        )
    for member in members:
        target = dest / member.name
        if member.isdir():
            target.mkdir(parents=True, exist_ok=True)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        source = bundle.extractfile(member)
        assert source is not None  # a regular file always has content to read
        with source, target.open("wb") as out:
            while chunk := source.read(1 << 20):
                out.write(chunk)


def unpack(archive: Path, dest: Path, limit: int, label: str) -> None:
    """Unpack a .zip or .tar.gz into `dest`, refusing entries that escape it and archives over `limit` unpacked."""
    with archive.open("rb") as handle:
        magic = handle.read(4)
    if magic.startswith(b"PK\x03\x04"):
        with zipfile.ZipFile(archive) as bundle:
            entries = bundle.infolist()
            _check_names([entry.filename for entry in entries], label)
            _check_size(sum(entry.file_size for entry in entries), limit, label)
            bundle.extractall(dest)  # noqa: S202 - every name was checked above
        return
    if tarfile.is_tarfile(archive):
        with tarfile.open(archive, "r:*") as bundle:
            members = bundle.getmembers()
            _check_names([member.name for member in members], label)
            _check_size(sum(member.size for member in members if member.isfile()), limit, label)
            _extract_plain(bundle, members, dest, label)
        return
    raise LoadFailure(f"{label} artifact is neither a .zip nor a .tar.gz archive")


def root_of(unpacked: Path, marker: str, label: str) -> Path:
    """The directory holding `marker`: the archive's top level, or its one top-level directory."""
    if (unpacked / marker).is_file():
        return unpacked
    entries = [entry for entry in unpacked.iterdir() if not entry.name.startswith(_IGNORED_TOP_LEVEL)]
    if len(entries) == 1 and entries[0].is_dir() and (entries[0] / marker).is_file():
        return entries[0]
    found = ", ".join(sorted(entry.name for entry in entries)[:8]) or "nothing"
    raise LoadFailure(f"{label} archive has no {marker} at its top level (found: {one_line(found, 120)})")


def _tree_bytes(root: Path) -> int:
    return sum(path.stat().st_size for path in root.rglob("*") if path.is_file())


def _pip_reason(output: str) -> str:
    errors = [line.removeprefix("ERROR: ") for line in output.splitlines() if line.startswith("ERROR: ")]
    reason = errors[-1] if errors else (output.strip().splitlines() or ["pip failed"])[-1]
    if re.search(r"No matching distribution|Could not find a version", output):
        reason += " (only wheels are installed, so a package without a wheel for this platform cannot be used)"
    return reason


def _conflicts(site_dir: Path) -> list[str]:
    """Distributions the install put next to ones the runner already has: the runner's would win the import."""
    found = []
    for info in site_dir.glob("*.dist-info"):
        name, _, version = info.name.removesuffix(".dist-info").partition("-")
        try:
            found.append(f"{name} {version} (the runner has {metadata.version(name)})")
        except metadata.PackageNotFoundError:
            continue
    return found


def install_requirements(requirements: Path, prefix: Path, settings: Settings) -> None:
    """`pip install` a bundle's requirements into `prefix` (what the runner already has is not installed
    again), bounded in time and size, and put them on sys.path; any failure is a LoadFailure saying why."""
    command = [
        sys.executable, "-m", "pip", "install", "--disable-pip-version-check", "--no-input",
        "--no-warn-script-location", "--only-binary=:all:", "--prefix", str(prefix), "-r", str(requirements),
    ]  # fmt: skip
    timeout = settings.install_timeout_seconds
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise LoadFailure(
            f"installing the bundle's requirements.txt took over {timeout} s (KRAKEN_INSTALL_TIMEOUT_SECONDS)"
        ) from None
    if result.returncode != 0:
        reason = _pip_reason(result.stderr + "\n" + result.stdout)
        raise LoadFailure(f"the bundle's requirements.txt could not be installed: {one_line(reason, 220)}")
    if not prefix.exists():  # everything asked for was already there
        return
    size = _tree_bytes(prefix)
    if size > settings.unpacked_max_bytes:
        raise LoadFailure(
            f"the bundle's requirements take {size} bytes installed, over the limit of "
            f"{settings.unpacked_max_bytes} bytes (KRAKEN_UNPACKED_MAX_BYTES)"
        )
    for site_dir in sorted({*prefix.rglob("site-packages"), *prefix.rglob("dist-packages")}):
        conflicts = _conflicts(site_dir)
        if conflicts:
            raise LoadFailure(
                "the bundle's requirements.txt asks for other versions of the runner's own libraries: "
                + "; ".join(conflicts[:4])
                + " (pin the runner's versions, or ship a dockerImage)"
            )
        site.addsitedir(str(site_dir))  # after the runner's own paths, .pth files honoured


def load_bundle(archive: Path, settings: Settings) -> Model:
    """A .zip/.tar.gz whose model.py defines predict(model_data, meta_data) and reads its files next to it."""
    from runner.loading import load_python_module

    unpacked = archive.parent / "bundle"
    unpack(archive, unpacked, settings.unpacked_max_bytes, "bundle")
    root = root_of(unpacked, ENTRY_MODULE, "bundle")
    if (root / REQUIREMENTS).is_file():
        install_requirements(root / REQUIREMENTS, archive.parent / "requirements", settings)
    sys.path.insert(0, str(root))  # the entry module imports its sibling modules by name
    return load_python_module(root / ENTRY_MODULE, ENTRY_MODULE, "bundle")


def load_mlflow(archive: Path, settings: Settings) -> Model:
    """A zipped MLflow model directory, served through its pyfunc flavor with the runner's libraries."""
    from runner.models import MlflowModel

    unpacked = archive.parent / "mlflow"
    unpack(archive, unpacked, settings.unpacked_max_bytes, "mlflow")
    root = root_of(unpacked, MLMODEL, "mlflow")
    try:
        import mlflow.pyfunc
    except ImportError:
        raise LoadFailure("this runner has no mlflow installed; it cannot serve MLflow models") from None
    return MlflowModel(mlflow.pyfunc.load_model(str(root)))
