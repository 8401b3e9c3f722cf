"""Local mode's data directory: the emulator's state saved to disk and brought back at the next start.

moto keeps everything in memory and offers no persistence of its own: its recorder replays recorded
requests, which breaks on the ids and keys each start draws anew (user pool, IAM keys) and grows with
every read. Following moto's maintainers' advice, this pickles the backends themselves, of the
services local mode uses, into one snapshot: written on a clean stop, and every second while
something changes, between requests (the WSGI wrapper `Pausable` holds new requests back for the
moment it takes), to a temporary file renamed into place, so a crash leaves the previous snapshot
whole. S3 objects' bodies (the artifacts, up to 500 MB each) are written once each, as files named
by their SHA-256, beside the snapshot instead of inside it.

IAM is left out on purpose: local mode renders each role's user and policy from the code at every
start (local.identities), so a policy changed in the code applies at once.

    <data dir>/            0700   KRAKEN_DATA_DIR, or .kraken/local-<port> in the checkout
      admin-password       0600   (local/__main__.py)
      emulator/            0700
        lock               0600   held while a local mode uses the directory
        state              0600   a header line, a JSON line, then the pickled backends
        objects/<sha256>   0600   S3 object bodies
      emulator.unreadable-<time>/  a snapshot that could not be used, kept for a person to look at
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import io
import json
import logging
import os
import pickle
import shutil
import threading
import time
import weakref
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

logger = logging.getLogger("kraken.local.state")

DATA_DIR = "KRAKEN_DATA_DIR"  # empty: keep nothing (the password file goes to the default place, and away at exit)
SAVE_SECONDS = "KRAKEN_SAVE_SECONDS"  # how often a changed state is saved; a crash loses at most this much
DEFAULT_SAVE_SECONDS = 1.0
# Saves take at most this share of the time: a state grown big under load (a save pickles all of it, and
# holds requests back meanwhile) is saved less often rather than taking half a core.
SAVE_DUTY = 0.2
QUIET_SECONDS = 30.0  # how long a save waits for the requests in flight to finish
# What local mode keeps in the emulator (emulator.py creates it); not IAM, see above.
SERVICES = ("dynamodb", "s3", "cognito-idp", "logs", "cloudwatch", "ecs", "secretsmanager")
MAGIC = b"kraken local-mode state\n"
FORMAT = 1
# Operations that only read: a request for one of them does not make a new snapshot necessary.
READ_ONLY_PREFIXES = ("Get", "Describe", "List", "Query", "Scan", "BatchGet", "Filter")

StartResponse = Callable[..., Any]


CHECKOUT = Path(__file__).resolve().parents[2]
DEFAULT_DATA_ROOT = ".kraken"  # in the checkout, ignored by git


def default_data_dir(port: int) -> Path:
    """Each port its own directory, since two local modes cannot share one."""
    return CHECKOUT / DEFAULT_DATA_ROOT / f"local-{port}"


def data_dir(port: int, environ: Mapping[str, str] = os.environ) -> tuple[Path, bool]:
    """Where local mode on `port` keeps its files, and whether it keeps its state there.

    Unset, KRAKEN_DATA_DIR means the per-port directory; empty, it means "keep nothing" (the admin
    password's file still goes to the per-port directory, and is removed at exit).
    """
    configured = environ.get(DATA_DIR)
    if configured is None:
        return default_data_dir(port), True
    if not configured.strip():
        return default_data_dir(port), False
    return Path(configured).expanduser().absolute(), True


def data_root(path: Path) -> Path:
    """The data directory itself: created only its owner can enter; one that exists keeps its mode (it
    may be one the person chose), as what local mode puts in it is private on its own."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def private_dir(path: Path) -> Path:
    """One of local mode's own directories, only its owner can enter, whatever its mode was."""
    path.mkdir(mode=0o700, exist_ok=True)
    path.chmod(0o700)
    return path


def write_private(path: Path, chunks: Iterable[bytes]) -> None:
    """Write a file of mode 0600 atomically: a temporary file beside it, synced, then renamed over it."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(descriptor, 0o600)
        with os.fdopen(descriptor, "wb") as file:
            for chunk in chunks:
                file.write(chunk)
            file.flush()
            os.fsync(file.fileno())
        temporary.replace(path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    _sync_dir(path.parent)


def _sync_dir(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- between requests -------------------------------------------------------------------------


def changes_state(environ: Mapping[str, Any]) -> bool:
    """Whether an emulator request may change its state; unknown means yes."""
    target = environ.get("HTTP_X_AMZ_TARGET")  # the JSON protocols: DynamoDB, Logs, Cognito, ECS
    if target:
        return not str(target).rsplit(".", 1)[-1].startswith(READ_ONLY_PREFIXES)
    path = str(environ.get("PATH_INFO", ""))
    if "/operation/" in path:  # the RPC v2 protocol (CloudWatch)
        return not path.rsplit("/", 1)[-1].startswith(READ_ONLY_PREFIXES)
    return environ.get("REQUEST_METHOD") not in ("GET", "HEAD")  # S3, the key set


class Pausable:
    """WSGI middleware around the emulator: `paused()` waits for the requests in flight and holds new
    ones back, so a snapshot sees the state between requests; `changes` counts those that may change it.

    The app inside must have produced its whole response when it returns (the gate makes it a list).
    """

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self._app = app
        self._condition = threading.Condition()
        self._in_flight = 0
        self._paused = False
        self.changes = 0

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        writes = changes_state(environ)
        with self._condition:
            while self._paused:
                self._condition.wait()
            self._in_flight += 1
        try:
            return self._app(environ, start_response)
        finally:
            with self._condition:
                self._in_flight -= 1
                self.changes += writes
                self._condition.notify_all()

    @contextlib.contextmanager
    def paused(self, timeout: float = QUIET_SECONDS) -> Iterator[int]:
        """Hold requests back while the block runs; yields the count of changes made before it."""
        with self._condition:
            while self._paused:  # another pause first
                self._condition.wait()
            self._paused = True
            if not self._condition.wait_for(lambda: self._in_flight == 0, timeout):
                self._paused = False
                self._condition.notify_all()
                raise TimeoutError(f"the emulator was still answering requests after {timeout:g} s")
            changes = self.changes
        try:
            yield changes
        finally:
            with self._condition:
                self._paused = False
                self._condition.notify_all()

    def note_change(self) -> None:
        """The state was changed by this process itself, not through a request: the next save keeps it."""
        with self._condition:
            self.changes += 1


# --- pickling the backends --------------------------------------------------------------------


# Each S3 key object's body's SHA-256, hashed once per body (moto's state, and so this, is per process).
_DIGESTS: weakref.WeakKeyDictionary[Any, tuple[Any, str]] = weakref.WeakKeyDictionary()


class _ObjectBody:
    """Stands for an S3 object's body in the snapshot: the name of its file in objects/."""

    def __init__(self, digest: str) -> None:
        self.digest = digest


class _Pickler(pickle.Pickler):
    """Pickles moto's backends; S3 object bodies become references to files, RSA keys their JWK."""

    def __init__(self, file: io.BytesIO) -> None:
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self.bodies: dict[str, Any] = {}  # digest -> the key whose body it is (written after the pause)
        self.referenced: set[str] = set()
        from joserfc.jwk import RSAKey
        from moto.s3.models import FakeKey

        self._fake_key, self._rsa_key = FakeKey, RSAKey

    def reducer_override(self, obj: Any) -> Any:
        if type(obj) is self._fake_key:
            digest = self._digest(obj)
            return _restore_fake_key, (self._key_state(obj), _ObjectBody(digest), digest)
        if isinstance(obj, self._rsa_key):  # Cognito's token signing key (a static one in moto)
            return _restore_rsa_key, (obj.as_dict(private=True),)
        return NotImplemented

    def persistent_id(self, obj: Any) -> Any:
        if isinstance(obj, _ObjectBody):
            return ("s3-object", obj.digest)
        return None

    @staticmethod
    def _key_state(key: Any) -> dict[str, Any]:
        return {name: value for name, value in vars(key).items() if name not in ("_value_buffer", "lock")}

    def _digest(self, key: Any) -> str:
        # Hashing a body once per key object: its size and moto's ETag tell whether it changed since.
        known = _DIGESTS.get(key)
        if known is not None and known[0] == _version(key):
            digest = known[1]
        else:
            digest = hashlib.sha256(key.value).hexdigest()
            _DIGESTS[key] = (_version(key), digest)
        self.referenced.add(digest)
        self.bodies.setdefault(digest, key)
        return digest


def _restore_fake_key(state: dict[str, Any], value: bytes, digest: str) -> Any:
    from moto.s3.models import FakeKey

    key: Any = FakeKey.__new__(FakeKey)
    key.__setstate__({**state, "value": value})
    _DIGESTS[key] = (_version(key), digest)  # checked against its file as it was read: no hashing at the next save
    return key


def _version(key: Any) -> tuple[Any, ...]:
    return (key.contentsize, key._etag)


def _restore_rsa_key(jwk: dict[str, Any]) -> Any:
    from joserfc.jwk import RSAKey

    return RSAKey.import_key(jwk)


class _Unpickler(pickle.Unpickler):
    """Reads a snapshot back; each S3 object body from its file, checked against its name.

    A snapshot is trusted as any file in the owner's 0700 directory is: whoever can write it can
    already run code as that user.
    """

    def __init__(self, file: io.BytesIO, objects: Path) -> None:
        super().__init__(file)
        self._objects = objects

    def persistent_load(self, pid: Any) -> Any:
        kind, digest = pid
        if kind != "s3-object":
            raise pickle.UnpicklingError(f"unknown reference {kind!r}")
        body = (self._objects / digest).read_bytes()
        if hashlib.sha256(body).hexdigest() != digest:
            raise pickle.UnpicklingError(f"the S3 object file objects/{digest} does not match its name")
        return body


_STANDARD_ATTRIBUTES = {"backend", "service_name", "_use_boto3_regions", "_additional_regions", "_id"}


def capture() -> dict[str, Any]:
    """The backends of SERVICES, with the extra attributes of their BackendDict (S3's bucket index)."""
    from moto.backends import get_backend

    state: dict[str, Any] = {}
    for service in SERVICES:
        backends = get_backend(service)  # type: ignore[call-overload]
        state[service] = {
            "regions": {account: dict(regions) for account, regions in backends.items()},
            "extras": {k: v for k, v in vars(backends).items() if k not in _STANDARD_ATTRIBUTES},
        }
    return state


def install(state: Mapping[str, Any]) -> None:
    """Put the backends of a snapshot in place of the (still empty) ones of this process."""
    from moto.backends import get_backend

    for service, saved in state.items():
        backends = get_backend(service)  # type: ignore[call-overload]
        for account, regions in saved["regions"].items():
            for region, backend in regions.items():
                backends[account][region] = backend
        for name, value in saved["extras"].items():
            setattr(backends, name, value)


# --- the snapshot on disk ---------------------------------------------------------------------


class InUse(Exception):
    """Another local mode keeps its state in the same directory."""


class Unusable(Exception):
    """A snapshot that cannot be restored; the message says why, in words."""


@dataclass(frozen=True)
class Restored:
    restored: bool
    message: str  # one line for the person who started local mode


class SavedState:
    """The emulator's state under `<root>/emulator/`: restore it, save it, or start again without it."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.dir = root / "emulator"
        self.file = self.dir / "state"
        self.objects = self.dir / "objects"
        self._lock = threading.Lock()
        self._on_disk: set[str] | None = None  # the object files there are, once listed
        self._lock_file: int | None = None
        self.last_pause_seconds = 0.0  # how long the last save held the emulator's requests back

    def acquire(self) -> None:
        """Claim the directory for this process (until it exits); raises InUse when another one has it.

        Two local modes saving into one directory would each delete the other's object files.
        """
        data_root(self.root)
        private_dir(self.dir)
        descriptor = os.open(self.dir / "lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(descriptor)
            raise InUse(f"another local mode keeps its state in {self.root}; stop it, or set {DATA_DIR}") from None
        self._lock_file = descriptor

    def reset(self) -> bool:
        """Remove the saved state (the directory stays claimed); True when there was one."""
        existed = self.file.exists()
        for entry in self.dir.iterdir() if self.dir.is_dir() else ():
            if entry.is_dir():
                shutil.rmtree(entry)
            elif entry.name != "lock":
                entry.unlink()
        self._on_disk = None
        return existed

    def restore(self) -> Restored:
        """Load the snapshot into moto (before the emulator serves anything). An unusable one is moved aside."""
        self._remove_leftovers()
        if not self.file.exists():
            return Restored(False, f"Local state is kept in {self.root} (nothing saved yet).")
        try:
            header, state = self._load()
        except Unusable as problem:
            aside = self._set_aside()
            return Restored(
                False,
                f"The saved local state cannot be used: {problem}. It is kept in {aside} and local mode starts empty.",
            )
        install(state)
        return Restored(True, f"Local state restored from {self.root} (saved {header.get('savedAt', '?')}).")

    def _load(self) -> tuple[dict[str, Any], dict[str, Any]]:
        import moto

        try:
            with self.file.open("rb") as file:
                if file.readline() != MAGIC:
                    raise Unusable(f"{self.file} is not a local-mode snapshot")
                header = json.loads(file.readline())
                payload = file.read()
        except (OSError, ValueError) as error:
            raise Unusable(f"{self.file} cannot be read ({error})") from None
        if not isinstance(header, dict) or header.get("format") != FORMAT:
            raise Unusable(f"it is in another format ({header.get('format') if isinstance(header, dict) else '?'})")
        if header.get("moto") != moto.__version__:
            raise Unusable(f"it was saved with moto {header.get('moto')}, and this is moto {moto.__version__}")
        if len(payload) != header.get("bytes") or hashlib.sha256(payload).hexdigest() != header.get("sha256"):
            raise Unusable(f"{self.file} is damaged (incomplete, or changed since it was written)")
        missing = [digest for digest in header.get("objects", []) if not (self.objects / digest).is_file()]
        if missing:
            raise Unusable(f"{len(missing)} S3 object file(s) are missing from {self.objects}")
        try:
            state = _Unpickler(io.BytesIO(payload), self.objects).load()
        except Exception as error:  # whatever a damaged or foreign pickle raises, the answer is the same
            raise Unusable(f"its content cannot be loaded ({type(error).__name__}: {error})") from None
        if not isinstance(state, dict) or set(state) - set(SERVICES):
            raise Unusable("it holds something other than the emulator's services")
        return header, state

    def _remove_leftovers(self) -> None:
        # Temporary files of a save that a crash interrupted; the snapshot they were for never existed.
        for folder in (self.dir, self.objects):
            if folder.is_dir():
                for leftover in folder.glob(".*.tmp"):
                    leftover.unlink(missing_ok=True)

    def _set_aside(self) -> Path:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        aside = self.root / f"emulator.unreadable-{stamp}"
        suffix = 1
        while aside.exists():
            suffix += 1
            aside = self.root / f"emulator.unreadable-{stamp}-{suffix}"
        private_dir(aside)
        for entry in self.dir.iterdir():  # all but the lock, which this process holds
            if entry.name != "lock":
                entry.rename(aside / entry.name)
        self._on_disk = None
        return aside

    def save(self, emulator: Pausable) -> int:
        """Write a snapshot of the emulator as it is between requests; returns the change count it holds."""
        with self._lock:
            buffer = io.BytesIO()
            with emulator.paused() as changes:
                paused = time.monotonic()
                pickler = _Pickler(buffer)
                pickler.dump(capture())
                # The bodies not yet on disk are read now, while no request can change them.
                new = {d: key.value for d, key in pickler.bodies.items() if d not in self._objects_on_disk()}
                self.last_pause_seconds = time.monotonic() - paused
            payload = buffer.getvalue()
            private_dir(data_root(self.root) / self.dir.name)
            private_dir(self.objects)
            for digest, body in new.items():
                write_private(self.objects / digest, [body])
                self._objects_on_disk().add(digest)
            header = {
                "format": FORMAT,
                "moto": _moto_version(),
                "savedAt": _now(),
                "bytes": len(payload),
                "sha256": hashlib.sha256(payload).hexdigest(),
                "objects": sorted(pickler.referenced),
            }
            write_private(self.file, [MAGIC, json.dumps(header).encode() + b"\n", payload])
            self._drop_unreferenced(pickler.referenced)
            return changes

    def _objects_on_disk(self) -> set[str]:
        if self._on_disk is None:
            self._on_disk = {p.name for p in self.objects.iterdir() if p.is_file()} if self.objects.is_dir() else set()
        return self._on_disk

    def _drop_unreferenced(self, referenced: set[str]) -> None:
        # Only once the snapshot that no longer names them is in place.
        for digest in self._objects_on_disk() - referenced:
            (self.objects / digest).unlink(missing_ok=True)
            self._objects_on_disk().discard(digest)


def _moto_version() -> str:
    import moto

    return str(moto.__version__)


def save_interval(environ: Mapping[str, str] = os.environ) -> float:
    raw = environ.get(SAVE_SECONDS)
    try:
        seconds = float(raw) if raw else DEFAULT_SAVE_SECONDS
    except ValueError:
        raise ValueError(f"{SAVE_SECONDS} must be a number of seconds, not {raw!r}") from None
    if seconds <= 0:
        raise ValueError(f"{SAVE_SECONDS} must be positive")
    return seconds


class Saver:
    """Saves the state every `every` seconds when it has changed (less often when saves are slow: see
    SAVE_DUTY), and once more at `stop`."""

    def __init__(self, state: SavedState, emulator: Pausable, every: float) -> None:
        self._state = state
        self._emulator = emulator
        self._every = every
        self._stopped = threading.Event()
        self._saved_changes = -1
        self._last_problem = ""
        self._thread = threading.Thread(target=self._run, name="local-state-saver", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def save(self) -> None:
        self._saved_changes = self._state.save(self._emulator)

    def _run(self) -> None:
        pause = self._every
        while not self._stopped.wait(pause):
            if self._emulator.changes == self._saved_changes:
                continue
            started = time.monotonic()
            try:
                self.save()
            except Exception as error:  # the next round tries again; the person is told once per cause
                problem = f"{type(error).__name__}: {error}"
                if problem != self._last_problem:
                    logger.warning("could not save the local state to %s: %s", self._state.dir, problem)
                    self._last_problem = problem
            else:
                self._last_problem = ""
                logger.debug("local state saved in %.0f ms", (time.monotonic() - started) * 1000)
            pause = max(self._every, (time.monotonic() - started) * (1 / SAVE_DUTY - 1))

    def stop(self) -> str | None:
        """Stop the periodic saves and save once more; returns what went wrong, if anything did."""
        self._stopped.set()
        if self._thread.is_alive():
            self._thread.join(timeout=QUIET_SECONDS + 30)
        try:
            self.save()
        except Exception as error:
            return f"could not save the local state to {self._state.dir}: {type(error).__name__}: {error}"
        return None
