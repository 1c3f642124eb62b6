"""Entry point of a trainer process: reads the worker's first line and dispatches it.

`start` → `train(session)`; `predict` (the versioned extension, docs/trainer-protocol.md) →
`predict(request)` whose list is sent as one `predictions` message. Exceptions become the
protocol's exit codes: InvalidDataset 2, InvalidConfig 3, anything else 1 with a `trainer_error`.
"""
from __future__ import annotations

import json
import os
import sys
import traceback
from dataclasses import dataclass, field
from typing import IO, Any, Callable, Mapping, Optional, Sequence

from .session import (EXIT_CRASH, EXIT_INVALID_CONFIG, EXIT_INVALID_DATASET, EXIT_OK, InvalidConfig, InvalidDataset,
                      Session, predictions_message)


@dataclass(frozen=True)
class PredictRequest:
    """A `predict` line: run the checkpoint at `checkpoint_path` on `examples` (dataset-shaped
    objects, or bare strings taken as input text)."""
    checkpoint_path: str
    examples: list[Any]
    model: str = ""
    spec: Mapping[str, Any] = field(default_factory=dict)


TrainFn = Callable[[Session], None]
PredictFn = Callable[[PredictRequest], Sequence[Mapping[str, Any]]]


def _finish(code: int, out: IO[str]) -> None:
    try:
        out.flush()
        sys.stderr.flush()
    finally:
        os._exit(code)  # no interpreter teardown: a blocked stdin reader or library threads never delay the exit


def run(train: TrainFn, predict: Optional[PredictFn] = None, trainer: str = "python-trainer",
        stdin: Optional[IO[str]] = None, stdout: Optional[IO[str]] = None,
        exit: Callable[[int, IO[str]], None] = _finish) -> None:
    """Runs a trainer: call it from `if __name__ == "__main__":`."""
    inp = stdin if stdin is not None else sys.stdin
    out = stdout if stdout is not None else sys.stdout
    first = inp.readline()
    if not first:
        sys.stderr.write("ftnode_trainer: stdin closed before the first line\n")
        return exit(EXIT_CRASH, out)
    try:
        msg = json.loads(first)
        kind = msg.get("type") if isinstance(msg, dict) else None
    except ValueError:
        kind = None
    if kind == "predict":
        return exit(_predict(msg.get("spec") or {}, predict, out), out)
    if kind != "start":
        Session({}, stdout=out).error("invalid_config", f"the first line must be a start message, got {first[:80]!r}")
        return exit(EXIT_INVALID_CONFIG, out)
    session = Session(msg.get("spec") or {}, stdin=inp, stdout=out)
    code = EXIT_OK
    try:
        session.hello(trainer)
        train(session)
    except InvalidDataset as e:
        session.error("invalid_dataset", str(e))
        code = EXIT_INVALID_DATASET
    except InvalidConfig as e:
        session.error("invalid_config", str(e))
        code = EXIT_INVALID_CONFIG
    except Exception as e:  # noqa: BLE001 - every other failure is a crash the job reports
        traceback.print_exc()
        session.error("trainer_error", f"{type(e).__name__}: {e}")
        code = EXIT_CRASH
    exit(code, out)


def _predict(spec: Mapping[str, Any], predict: Optional[PredictFn], out: IO[str]) -> int:
    s = Session(spec, stdout=out)
    if predict is None:
        s.error("invalid_config", "this trainer does not implement predict")
        return EXIT_INVALID_CONFIG
    ckpt = spec.get("checkpoint") or {}
    req = PredictRequest(str(ckpt.get("path", "")), list(spec.get("examples") or []), str(spec.get("model", "")), spec)
    try:
        s.send(predictions_message(predict(req)))
        return EXIT_OK
    except InvalidDataset as e:
        s.error("invalid_dataset", str(e))
        return EXIT_INVALID_DATASET
    except InvalidConfig as e:
        s.error("invalid_config", str(e))
        return EXIT_INVALID_CONFIG
    except Exception as e:  # noqa: BLE001
        traceback.print_exc()
        s.error("trainer_error", f"{type(e).__name__}: {e}")
        return EXIT_CRASH
