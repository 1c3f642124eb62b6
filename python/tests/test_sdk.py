"""Unit tests of ftnode_trainer: message shapes, atomic hashed checkpoints, the stdin reader (stop
flag, end of file → exit), the runner's exit codes and the predict extension, over real pipes and
real child processes (python -m unittest discover -s python/tests)."""
from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import sys
import tempfile
import textwrap
import threading
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from ftnode_trainer import (EXIT_INVALID_DATASET, EXIT_ORPHANED, InvalidDataset, Session, check_example,  # noqa: E402
                            read_examples)
from ftnode_trainer.session import DataFile  # noqa: E402


def lines(buf: io.StringIO) -> list[dict]:
    return [json.loads(x) for x in buf.getvalue().splitlines()]


def child(code: str, stdin: str, close: bool = True, timeout: float = 20) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.path.dirname(HERE)}
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], input=stdin, capture_output=True, text=True, env=env, timeout=timeout)


class MessagesTest(unittest.TestCase):
    def test_helpers_write_one_json_object_a_line(self) -> None:
        out = io.StringIO()
        s = Session({"work_dir": "/tmp"}, stdout=out)
        s.hello("t")
        s.hyperparameters({"lr": 0.1, "rank": 8})
        s.progress(3, 10, epoch=1, phase="training")
        s.metrics(3, {"loss": 1.5, "bad": float("nan")})
        s.eval_start(3)
        s.eval_end(3, {"eval_loss": 1.0})
        s.log("hi", "warn")
        s.finalizing()
        s.done(10, {"eval_loss": 1.0})
        msgs = lines(out)
        self.assertEqual([m["type"] for m in msgs], ["hello", "hyperparameters", "progress", "log", "metrics", "eval_start", "eval_end", "log", "finalizing", "done"])
        self.assertEqual(msgs[2], {"type": "progress", "step": 3, "total_steps": 10, "epoch": 1, "phase": "training"})
        self.assertEqual(msgs[4]["values"], {"loss": 1.5})  # NaN dropped, after one warning (msgs[3])
        self.assertEqual(msgs[3]["level"], "warn")
        self.assertEqual(msgs[-1], {"type": "done", "reason": "completed", "step": 10, "metrics": {"eval_loss": 1.0}})

    def test_spec_accessors(self) -> None:
        spec = {"job_id": "j", "attempt": 2, "seed": 7, "work_dir": "/w", "config": {"a": 1},
                "datasets": [{"name": "a", "split": "train", "files": [{"file_id": "t.jsonl", "path": "/p/t"}]},
                             {"name": "b", "split": "eval", "files": [{"file_id": "e.jsonl", "path": "/p/e"}]}],
                "resume": {"checkpoint_id": "ckp_1", "step": 40, "path": "/c"}}
        s = Session(spec, stdout=io.StringIO())
        self.assertEqual((s.job_id, s.attempt, s.seed, s.work_dir), ("j", 2, 7, "/w"))
        self.assertEqual([f.path for f in s.files("train")], ["/p/t"])
        self.assertEqual([f.file_id for f in s.files("eval")], ["e.jsonl"])
        self.assertEqual(s.resume.step if s.resume else None, 40)
        self.assertIsNone(Session({}, stdout=io.StringIO()).resume)


class CheckpointTest(unittest.TestCase):
    def test_checkpoint_is_complete_renamed_and_hashed(self) -> None:
        with tempfile.TemporaryDirectory() as d:
            out = io.StringIO()
            s = Session({"work_dir": d}, stdout=out)
            p1 = s.checkpoint(5, b"abc", metrics={"eval_loss": 0.5}, meta={"format": "x"})
            p2 = s.checkpoint(6, lambda path: open(path, "wb").write(b"defg"), name="final")
            self.assertNotEqual(p1, p2)
            self.assertEqual(sorted(os.listdir(d)), sorted([os.path.basename(p1), os.path.basename(p2)]))  # no temporary left
            m1, m2 = lines(out)
            self.assertEqual(m1["sha256"], hashlib.sha256(b"abc").hexdigest())
            self.assertEqual((m1["size"], m1["step"], m1["metrics"], m1["meta"]), (3, 5, {"eval_loss": 0.5}, {"format": "x"}))
            self.assertEqual((m2["size"], m2["name"], m2["sha256"]), (4, "final", hashlib.sha256(b"defg").hexdigest()))


class StdinTest(unittest.TestCase):
    def test_stop_line_sets_the_flag_and_eof_exits(self) -> None:
        r, w = os.pipe()
        codes: list[int] = []
        exited = threading.Event()
        s = Session({}, stdin=os.fdopen(r, "r"), stdout=io.StringIO(), exit=lambda c: (codes.append(c), exited.set()))
        wf = os.fdopen(w, "w")
        wf.write('{"type":"checkpoint_result","step":1,"committed":true,"checkpoint_id":"ckp_1"}\n{"type":"stop"}\n')
        wf.flush()
        self.assertTrue(s.wait_for_stop(10))
        self.assertTrue(s.stop_requested)
        self.assertEqual(s.checkpoint_results[0]["checkpoint_id"], "ckp_1")
        wf.close()
        self.assertTrue(exited.wait(10))
        self.assertEqual(codes, [EXIT_ORPHANED])

    def test_done_after_stop_says_stopped(self) -> None:
        out = io.StringIO()
        s = Session({}, stdin=io.StringIO('{"type":"stop"}\n'), stdout=out, exit=lambda c: None)
        s.wait_for_stop(10)
        s.done(4)
        self.assertEqual(lines(out)[-1]["reason"], "stopped")

    def test_a_real_process_exits_when_stdin_closes(self) -> None:
        # The loop never ends by itself: only the reader's exit on end of file can end it.
        code = """
            import time
            from ftnode_trainer import run
            def train(s):
                while True:
                    s.progress(1, 2); time.sleep(0.05)
            run(train)
        """
        p = child(code, '{"type":"start","spec":{"work_dir":"."}}\n')
        self.assertEqual(p.returncode, EXIT_ORPHANED)
        self.assertIn("stdin closed", p.stderr)


class RunnerTest(unittest.TestCase):
    def test_exit_codes(self) -> None:
        code = """
            import sys
            from ftnode_trainer import run, InvalidDataset, InvalidConfig
            kind = sys.argv[-1] if len(sys.argv) > 1 else ''
            def train(s):
                what = s.config.get("raise")
                if what == "dataset": raise InvalidDataset("bad line 3")
                if what == "config": raise InvalidConfig("no base")
                if what == "crash": raise RuntimeError("boom")
                s.done(0)
            run(train)
        """
        for what, expect, err in [("dataset", 2, "invalid_dataset"), ("config", 3, "invalid_config"), ("crash", 1, "trainer_error"), ("", 0, None)]:
            spec = json.dumps({"type": "start", "spec": {"config": {"raise": what}}})
            # stdin stays open until the process answers: a closed stdin would mean "exit at once"
            p = subprocess.Popen([sys.executable, "-c", textwrap.dedent(code)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                 env={**os.environ, "PYTHONPATH": os.path.dirname(HERE)})
            assert p.stdin and p.stdout
            p.stdin.write(spec + "\n")
            p.stdin.flush()
            out = p.stdout.read()
            rc = p.wait(20)
            p.stdin.close()
            msgs = [json.loads(x) for x in out.splitlines()]
            self.assertEqual(rc, expect, what)
            self.assertEqual(msgs[0]["type"], "hello")
            if err:
                self.assertEqual(msgs[-1]["code"], err)
            else:
                self.assertEqual(msgs[-1]["type"], "done")

    def test_predict_request_gets_one_predictions_message(self) -> None:
        code = """
            from ftnode_trainer import run
            run(lambda s: None, predict=lambda req: [{"prediction": str(x).upper(), "checkpoint": req.checkpoint_path} for x in req.examples])
        """
        p = child(code, json.dumps({"type": "predict", "spec": {"protocol": 1, "predict": 1, "checkpoint": {"path": "/c"}, "examples": ["a", "b"]}}) + "\n")
        self.assertEqual(p.returncode, 0, p.stderr)
        msg = json.loads(p.stdout)
        self.assertEqual(msg, {"type": "predictions", "version": 1, "predictions": [{"prediction": "A", "checkpoint": "/c"}, {"prediction": "B", "checkpoint": "/c"}]})


class NewtonTest(unittest.TestCase):
    EX = {"lens_parameters": {"instruction": "Say"}, "inputs": [{"type": "data.text", "event_data": {"contents": "a"}}],
          "outputs": [{"type": "data.text", "event_data": {"contents": " yes "}}]}

    def test_prompt_and_answer(self) -> None:
        e = check_example(self.EX)
        self.assertEqual((e.prompt, e.answer), ("Say\na", "yes"))

    def test_containers_and_first_problem(self) -> None:
        with tempfile.TemporaryDirectory() as d:
            paths = {"a.jsonl": json.dumps(self.EX) + "\n\n" + json.dumps(self.EX) + "\n", "b.json": json.dumps([self.EX]),
                     "c.yaml": "---\n" + json.dumps(self.EX) + "\n---\n- " + json.dumps(self.EX) + "\n"}
            files = []
            for name, text in paths.items():
                with open(os.path.join(d, name), "w") as f:
                    f.write(text)
                files.append(DataFile(name, os.path.join(d, name)))
            self.assertEqual(len(read_examples(files)), 5)
            with open(os.path.join(d, "bad.jsonl"), "w") as f:
                f.write(json.dumps(self.EX) + "\n" + json.dumps({"inputs": []}) + "\n")
            with self.assertRaises(InvalidDataset) as cm:
                read_examples([DataFile("bad.jsonl", os.path.join(d, "bad.jsonl"))])
            self.assertIn("bad.jsonl (line 2): example 2: `inputs` must be a non-empty list", str(cm.exception))
            self.assertEqual(EXIT_INVALID_DATASET, 2)


if __name__ == "__main__":
    unittest.main()
