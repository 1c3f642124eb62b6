"""The trainer side of the ftnode trainer protocol (docs/trainer-protocol.md), standard library only.

A `Session` owns the process's stdio once the worker's first line has been read:
  * stdout carries only protocol messages, one JSON object a line, written under one lock and
    flushed at once (the worker acts on each line as it arrives);
  * a daemon thread reads stdin: `stop` sets a flag the training loop polls, `checkpoint_result`
    lines are kept, and end of file means the worker is gone, so the process exits at once
    (os._exit: no orphan keeps training while the job is resumed elsewhere);
  * checkpoint files are written under a temporary name in work_dir, fsynced, renamed, hashed,
    then reported (the protocol's rule: the file is complete before the message).
"""
from __future__ import annotations

import hashlib
import json
import math
import os
import sys
import threading
from dataclasses import dataclass
from typing import IO, Any, Callable, Mapping, Optional, Sequence, Union

PROTOCOL_VERSION = 1
#: Version of the `predict` request/`predictions` reply extension (docs/trainer-protocol.md).
PREDICT_VERSION = 1
EXIT_OK = 0
EXIT_CRASH = 1
EXIT_INVALID_DATASET = 2
EXIT_INVALID_CONFIG = 3
#: Exit status when stdin closes (the worker died). Any non-zero status other than 2/3 is a crash
#: to the worker, which by then is gone anyway; 75 (EX_TEMPFAIL) says "try again elsewhere".
EXIT_ORPHANED = 75


class InvalidDataset(Exception):
    """Raise for bad training data: the run ends with an `error` message and exit code 2."""


class InvalidConfig(Exception):
    """Raise for a configuration the trainer cannot run: `error` message and exit code 3."""


@dataclass(frozen=True)
class DataFile:
    file_id: str
    path: str
    label: Optional[str] = None


@dataclass(frozen=True)
class Dataset:
    name: str
    split: str  # 'train' or 'eval'
    files: tuple[DataFile, ...]


@dataclass(frozen=True)
class ResumePoint:
    checkpoint_id: str
    step: int
    path: str


Number = Union[int, float]
Writer = Callable[[str], None]


class Session:
    """One attempt of one job: the `start` spec plus the message helpers.

    `stdin`/`stdout` default to the process's; tests pass pipes. `exit` is called with the status
    when stdin reaches end of file (default os._exit, so no cleanup delays the exit).
    """

    def __init__(self, spec: Mapping[str, Any], stdin: Optional[IO[str]] = None, stdout: Optional[IO[str]] = None,
                 exit: Callable[[int], None] = os._exit) -> None:
        self.spec: Mapping[str, Any] = spec
        self._out: IO[str] = stdout if stdout is not None else sys.stdout
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._eof = threading.Event()
        self._exit = exit
        self.checkpoint_results: list[dict[str, Any]] = []
        self._warned_nonfinite = False
        self._seq = 0
        if stdin is not None:
            threading.Thread(target=self._read, args=(stdin,), name="ftnode-stdin", daemon=True).start()

    # ---- the spec -------------------------------------------------------------------------
    @property
    def job_id(self) -> str:
        return str(self.spec.get("job_id", ""))

    @property
    def attempt(self) -> int:
        return int(self.spec.get("attempt", 1))

    @property
    def seed(self) -> int:
        return int(self.spec.get("seed", 0))

    @property
    def model(self) -> str:
        return str(self.spec.get("model", ""))

    @property
    def config(self) -> Mapping[str, Any]:
        return self.spec.get("config") or {}

    @property
    def work_dir(self) -> str:
        return str(self.spec.get("work_dir") or os.getcwd())

    @property
    def datasets(self) -> list[Dataset]:
        out = []
        for d in self.spec.get("datasets") or []:
            files = tuple(DataFile(str(f["file_id"]), str(f["path"]), f.get("label")) for f in d.get("files") or [])
            out.append(Dataset(str(d.get("name", "")), str(d.get("split", "train")), files))
        return out

    def files(self, split: str) -> list[DataFile]:
        """Every file of the datasets of one split ('train' or 'eval'), in spec order."""
        return [f for d in self.datasets if d.split == split for f in d.files]

    @property
    def resume(self) -> Optional[ResumePoint]:
        r = self.spec.get("resume")
        return ResumePoint(str(r["checkpoint_id"]), int(r["step"]), str(r["path"])) if r else None

    # ---- stdin ----------------------------------------------------------------------------
    @property
    def stop_requested(self) -> bool:
        """True once the worker sent `stop`: start no new step; finish an evaluation in progress."""
        return self._stop.is_set()

    def wait_for_stop(self, timeout: Optional[float] = None) -> bool:
        return self._stop.wait(timeout)

    def _read(self, stdin: IO[str]) -> None:
        try:
            for line in stdin:
                try:
                    msg = json.loads(line)
                except ValueError:
                    continue
                if not isinstance(msg, dict):
                    continue
                if msg.get("type") == "stop":
                    self._stop.set()
                elif msg.get("type") == "checkpoint_result":
                    self.checkpoint_results.append(msg)
        except (OSError, ValueError):
            pass
        self._eof.set()
        try:
            sys.stderr.write("ftnode_trainer: stdin closed (the worker is gone), exiting\n")
            sys.stderr.flush()
        except (OSError, ValueError):
            pass
        self._exit(EXIT_ORPHANED)

    # ---- stdout ---------------------------------------------------------------------------
    def send(self, msg: Mapping[str, Any]) -> None:
        """Writes one protocol message (a JSON object) on its own line and flushes it."""
        line = json.dumps(msg, separators=(",", ":"), allow_nan=False)
        with self._lock:
            self._out.write(line + "\n")
            self._out.flush()

    def _numbers(self, values: Mapping[str, Any]) -> dict[str, Number]:
        # The protocol carries finite numbers only (JSON has no NaN); a diverged loss is dropped
        # with one warning rather than breaking the stream.
        out: dict[str, Number] = {}
        for k, v in values.items():
            x = float(v) if not isinstance(v, (int, float)) else v
            if isinstance(x, bool) or not math.isfinite(x):
                if not self._warned_nonfinite:
                    self._warned_nonfinite = True
                    self.log(f"dropped non-finite metric {k}={v!r}", "warn")
                continue
            out[str(k)] = x
        return out

    def hello(self, trainer: str) -> None:
        self.send({"type": "hello", "protocol": PROTOCOL_VERSION, "trainer": trainer})

    def hyperparameters(self, values: Mapping[str, Union[Number, str, bool]]) -> None:
        self.send({"type": "hyperparameters", "values": dict(values)})

    def progress(self, step: int, total_steps: int, epoch: Optional[Number] = None, phase: Optional[str] = None) -> None:
        msg: dict[str, Any] = {"type": "progress", "step": int(step), "total_steps": int(total_steps)}
        if epoch is not None:
            msg["epoch"] = epoch
        if phase is not None:
            msg["phase"] = phase
        self.send(msg)

    def metrics(self, step: int, values: Mapping[str, Any]) -> None:
        self.send({"type": "metrics", "step": int(step), "values": self._numbers(values)})

    def eval_start(self, step: int) -> None:
        self.send({"type": "eval_start", "step": int(step)})

    def eval_end(self, step: int, metrics: Mapping[str, Any]) -> None:
        self.send({"type": "eval_end", "step": int(step), "metrics": self._numbers(metrics)})

    def early_stop(self, step: int, message: str, epoch: Optional[Number] = None) -> None:
        msg: dict[str, Any] = {"type": "early_stop", "step": int(step), "message": message}
        if epoch is not None:
            msg["epoch"] = epoch
        self.send(msg)

    def finalizing(self) -> None:
        self.send({"type": "finalizing"})

    def log(self, message: str, level: str = "info") -> None:
        self.send({"type": "log", "level": level if level in ("info", "warn", "error") else "info", "message": str(message)})

    def error(self, code: str, message: str) -> None:
        self.send({"type": "error", "code": code, "message": str(message)})

    def checkpoint(self, step: int, content: Union[bytes, Writer], *, metrics: Optional[Mapping[str, Any]] = None,
                   filename: Optional[str] = None, name: Optional[str] = None, meta: Optional[Mapping[str, Any]] = None) -> str:
        """Writes a checkpoint atomically in work_dir, hashes it and reports it; returns its path.

        `content` is the bytes, or a function that writes the file at the path it is given (for
        example `lambda p: torch.save(state, p)`). Each call makes a new file (never rewritten).
        """
        self._seq += 1
        final = os.path.join(self.work_dir, filename or f"checkpoint-{int(step):08d}-{self._seq}.ckpt")
        tmp = f"{final}.tmp-{os.getpid()}"
        if isinstance(content, (bytes, bytearray, memoryview)):
            with open(tmp, "wb") as f:
                f.write(content)
        else:
            content(tmp)
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp, final)
        digest, size = sha256_file(final)
        msg: dict[str, Any] = {"type": "checkpoint", "step": int(step), "path": final, "size": size, "sha256": digest,
                               "metrics": self._numbers(metrics or {})}
        if name is not None:
            msg["name"] = name
        if meta is not None:
            msg["meta"] = dict(meta)
        self.send(msg)
        return final

    def done(self, step: int, metrics: Optional[Mapping[str, Any]] = None, reason: Optional[str] = None) -> None:
        """The last message: `reason` defaults to 'stopped' after a stop request, else 'completed'."""
        msg: dict[str, Any] = {"type": "done", "reason": reason or ("stopped" if self.stop_requested else "completed"), "step": int(step)}
        if metrics:
            msg["metrics"] = self._numbers(metrics)
        self.send(msg)


def sha256_file(path: str) -> tuple[str, int]:
    h = hashlib.sha256()
    size = 0
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
            size += len(block)
    return h.hexdigest(), size


def predictions_message(predictions: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    return {"type": "predictions", "version": PREDICT_VERSION, "predictions": [dict(p) for p in predictions]}
