"""The server's one training run: start it, stop it, watch it, and which model is the default.

A run is ``train.py`` in a process of its own, niced and on one TensorFlow thread, so that
students drawing on the same server keep their speed. Its state lives in files under
``config.RUNS_DIR``, so every session and every server process on the machine sees the same run:

- ``run.json``: the record (pid, name, arch, length, start time, command). It is created with
  ``O_CREAT | O_EXCL`` and doubles as the lock: while the run it names is running, nobody
  starts another. It stays after the run ends, to tell what became of it.
- ``progress.jsonl``: one JSON line when training begins, one per epoch, and a final line,
  "finished", "failed" or "stopped", written by ``train.py --progress-file``.
- ``train.log``: the run's output.

The run is started in a session of its own (``start_new_session``): a server restart or a
Ctrl-C in the server's terminal does not end it, and the restarted server finds it again by
its pid. A run whose process is gone without a final line (the machine rebooted, it was
killed) is reported "interrupted". Nothing in ``model/`` changes until a run completes:
``train.py`` writes its artifacts atomically, at the end.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from digits import artifacts, config
from digits.atomic import write_bytes_atomic

# The architectures train.py builds (digits.network.ARCHITECTURES, named here without loading TensorFlow).
ARCHITECTURES = ("strong", "seed", "simple", "deep", "regularized")
LENGTHS = ("quick", "full")  # train.py --quick, or the architecture's full recipe
TRAIN_THREADS = 1  # TensorFlow threads per op pool for a run: the server's cores stay free for students
NICENESS = 10  # the run yields the CPU to the app server
RECORD_FILE, PROGRESS_FILE, LOG_FILE, GUARD_FILE = "run.json", "progress.jsonl", "train.log", ".start.lock"
STARTING_GRACE = 60.0  # seconds a record may lack a pid (the start in progress) before it counts as interrupted
ENDINGS = ("finished", "failed", "stopped")  # the events of a progress file's final line
NAME = re.compile(r"[a-z0-9][a-z0-9-]{0,39}")

_children: dict[int, subprocess.Popen] = {}  # runs this process started, reaped when they end


class RunInProgress(RuntimeError):
    """A run is going on already: the server trains one model at a time."""


@dataclass(frozen=True)
class Status:
    """What the server's latest run is doing, or how it ended."""

    state: str  # "running", "finished", "stopped", "failed" or "interrupted"
    name: str  # the model folder it saves to, model/<name>/
    arch: str
    length: str  # "quick" or "full"
    started: float  # Unix time the run began
    planned: int | None = None  # epochs the recipe plans (early stopping may end sooner); None until known
    epochs: list[dict] = field(default_factory=list)  # per epoch: epoch, loss, accuracy, val_loss, ..., seconds
    ending: dict | None = None  # the final progress line: test_accuracy when finished, error when failed
    now: float = 0.0  # when this status was read

    @property
    def seconds_per_epoch(self) -> float | None:
        return sum(e["seconds"] for e in self.epochs) / len(self.epochs) if self.epochs else None

    @property
    def time_left(self) -> float | None:
        """Seconds until the planned epochs are done, at the pace so far; None before the first epoch."""
        if self.planned is None or not self.epochs:
            return None
        into_next = self.now - self.epochs[-1]["time"]  # the epoch under way has begun
        return max(0.0, (self.planned - len(self.epochs)) * self.seconds_per_epoch - into_next)

    @property
    def history(self) -> dict[str, list[float]]:
        """The epochs as a training history, as ``model/<name>/history.json`` holds one."""
        keys = ("loss", "accuracy", "val_loss", "val_accuracy", "seconds")
        return {key: [e[key] for e in self.epochs] for key in keys}


class Progress:
    """Appends a run's progress lines to ``path`` (train.py's side); does nothing when ``path`` is None."""

    def __init__(self, path: Path | None):
        self.path = Path(path) if path else None

    def write(self, event: str, **fields) -> None:
        if self.path is None:
            return
        line = json.dumps({"event": event, "time": time.time(), **fields}) + "\n"
        # One short write in append mode: a reader sees whole lines, or the last one half-written.
        with open(self.path, "a") as f:
            f.write(line)
            f.flush()


def runs_dir() -> Path:
    return Path(config.RUNS_DIR)


def train_command(arch: str, length: str, name: str, progress: Path) -> list[str]:
    """The command line of a run: ``train.py`` niced, on few threads, reporting to ``progress``."""
    command = ["nice", "-n", str(NICENESS), sys.executable, str(config.ROOT / "train.py"), "--arch", arch,
               "--name", name, "--out", str(config.MODEL_DIR), "--progress-file", str(progress),
               "--threads", str(TRAIN_THREADS), "--verbose", "2"]
    return command + (["--quick"] if length == "quick" else [])


def free_name(arch: str, length: str, root: Path | None = None) -> str:
    """The first of ``<arch>-<length>-1``, ``-2``, ... that names no trained model."""
    taken = set(artifacts.list_models(root))
    return next(f"{arch}-{length}-{n}" for n in range(1, 10_000) if f"{arch}-{length}-{n}" not in taken)


def start(arch: str, length: str, name: str, folder: Path | None = None) -> Status:
    """Start training ``arch`` ("quick" or "full" ``length``) into ``model/<name>/``.

    Raises
    ------
    RunInProgress
        When a run is going on, saying when it began.
    ValueError
        For an unknown architecture or length, or a name a trained model has already.
    """
    if arch not in ARCHITECTURES or length not in LENGTHS:
        raise ValueError(f"cannot train {arch!r} for {length!r}: choose one of {', '.join(ARCHITECTURES)} "
                         f"and one of {', '.join(LENGTHS)}")
    if not NAME.fullmatch(name) or name in artifacts.list_models():
        raise ValueError(f"{name!r} cannot name a new model: use lower-case letters, digits and dashes, "
                         "and a name no trained model has")
    folder = Path(folder or runs_dir())
    return launch(train_command(arch, length, name, folder / PROGRESS_FILE), arch, length, name, folder)


def launch(command: list[str], arch: str, length: str, name: str, folder: Path | None = None) -> Status:
    """Run ``command`` as the server's one run (`start` builds train.py's); refuses while one is running.

    ``command`` must name the run's progress file, ``folder / PROGRESS_FILE``: that is how
    its process is told apart from another that got the same pid later.
    """
    folder = Path(folder or runs_dir())
    with _one_starter(folder):
        current = status(folder)
        if current is not None and current.state == "running":
            raise RunInProgress(f"a run is already going on: {current.name} ({current.arch}, {current.length}), "
                                f"started at {time.strftime('%H:%M', time.localtime(current.started))}, "
                                f"{minutes(time.time() - current.started)} ago. Stop it first, or wait for it.")
        for old in (RECORD_FILE, PROGRESS_FILE, LOG_FILE):
            (folder / old).unlink(missing_ok=True)
        record = dict(pid=None, name=name, arch=arch, length=length, started=time.time(), command=command)
        # The lock: exclusive creation fails if anything made a record since the check above.
        with os.fdopen(os.open(folder / RECORD_FILE, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644), "w") as f:
            f.write(json.dumps(record))
        try:
            with open(folder / LOG_FILE, "wb") as log:
                process = subprocess.Popen(command, cwd=config.ROOT, stdin=subprocess.DEVNULL, stdout=log,
                                           stderr=subprocess.STDOUT, start_new_session=True)
        except OSError:
            (folder / RECORD_FILE).unlink(missing_ok=True)
            raise
        _children[process.pid] = process
        _write_record(folder, {**record, "pid": process.pid})
    return status(folder)


def stop(folder: Path | None = None, grace: float = 10.0) -> Status | None:
    """End the running run: Ctrl-C (train.py then exits saving nothing), after ``grace`` seconds a kill."""
    folder = Path(folder or runs_dir())
    record = _read_record(folder)
    if record is None or not _ours(record, folder):
        return status(folder)
    _write_record(folder, {**record, "stopped": time.time()})
    pid = record["pid"]
    for sig, wait in ((signal.SIGINT, grace), (signal.SIGKILL, 5.0)):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)
        deadline = time.monotonic() + wait
        while _ours(record, folder) and time.monotonic() < deadline:
            time.sleep(0.1)
        if not _ours(record, folder):
            break
    return status(folder)


def status(folder: Path | None = None, now: float | None = None) -> Status | None:
    """The latest run's state and progress, or None when this server has never started one."""
    folder = Path(folder or runs_dir())
    record = _read_record(folder)
    if record is None:
        return None
    now = time.time() if now is None else now
    lines = read_progress(folder / PROGRESS_FILE)
    ending = next((line for line in reversed(lines) if line["event"] in ENDINGS), None)
    if ending is not None:
        state = ending["event"]
    elif _ours(record, folder) or (record["pid"] is None and now - record["started"] < STARTING_GRACE):
        state = "running"
    else:
        state = "stopped" if "stopped" in record else "interrupted"
    begun = next((line for line in lines if line["event"] == "begin"), {})
    return Status(state=state, name=record["name"], arch=record["arch"], length=record["length"],
                  started=record["started"], planned=begun.get("planned"),
                  epochs=[line for line in lines if line["event"] == "epoch"], ending=ending, now=now)


def read_progress(path: Path) -> list[dict]:
    """The whole lines of a progress file (a line being written is left for the next read)."""
    try:
        text = Path(path).read_text()
    except FileNotFoundError:
        return []
    lines = []
    for raw in text.splitlines(keepends=True):
        with contextlib.suppress(ValueError):
            if raw.endswith("\n"):
                lines.append(json.loads(raw))
    return lines


def log_tail(folder: Path | None = None, lines: int = 20) -> str:
    """The last ``lines`` lines of the run's output."""
    path = Path(folder or runs_dir()) / LOG_FILE
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.is_file() else ""


def minutes(seconds: float) -> str:
    """'42 s', '3 min', '1 h 05 min': a duration as a person says it.

    >>> minutes(42), minutes(185), minutes(3900)
    ('42 s', '3 min', '1 h 05 min')
    """
    if seconds < 60:
        return f"{seconds:.0f} s"
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    return f"{seconds // 3600:.0f} h {seconds % 3600 // 60:02.0f} min"


def default_model() -> str:
    """The model every page starts on: the one the teacher made the default, else config.DEFAULT_MODEL."""
    try:
        name = (Path(config.DATA_DIR) / "default_model").read_text().strip()
    except OSError:
        return config.DEFAULT_MODEL
    return name if name in artifacts.list_models() else config.DEFAULT_MODEL


def set_default_model(name: str) -> None:
    """Make ``name`` the model every page starts on, for every session of every server sharing data/."""
    if name not in artifacts.list_models():
        raise ValueError(f"there is no trained model named {name!r}")
    write_bytes_atomic(Path(config.DATA_DIR) / "default_model", name.encode() + b"\n")


@contextlib.contextmanager
def _one_starter(folder: Path) -> Iterator[None]:
    """Hold the folder's start lock: one session (of any server process here) checks and starts at a time."""
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / GUARD_FILE, "a") as guard:
        fcntl.flock(guard, fcntl.LOCK_EX)  # released when the file is closed
        yield


def _read_record(folder: Path) -> dict | None:
    try:
        return json.loads((folder / RECORD_FILE).read_text())
    except (FileNotFoundError, ValueError):  # none yet, or being created this instant
        return None


def _write_record(folder: Path, record: dict) -> None:
    write_bytes_atomic(folder / RECORD_FILE, json.dumps(record).encode())


def _ours(record: dict, folder: Path) -> bool:
    """Whether the record's process is alive and is the run (a reused pid runs something else)."""
    pid = record.get("pid")
    if pid is None:
        return False
    child = _children.get(pid)
    if child is not None and child.poll() is not None:  # ended: reap it, or it lingers as a zombie
        del _children[pid]
        return False
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return str(folder / PROGRESS_FILE).encode() in cmdline
