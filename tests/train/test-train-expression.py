#!/usr/bin/env python3
"""moodtunes-train-expression end to end on a tiny net: it trains on a few
FER2013 Training images, a run stopped after one epoch and resumed ends
with the same weights as an unbroken run, the Darknet export gives
PyTorch's probabilities (expression-export-check, Darknet's layers and the
fast kernels), and bad inputs are clear errors.

Skips (77) when Debian's PyTorch is missing: build-aux/setup-deps.sh --train.

usage: test-train-expression.py TRAINER EXPRESSION-EXPORT-CHECK
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

TRAINER, CHECK = sys.argv.pop(1), sys.argv.pop(1)
# Debian's modules (torch, numpy) import from Debian's interpreter only.
PYTHON = "/usr/bin/python3"
SHARED = os.environ.get("MT_SHARED_DIR", os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared"))
FER = os.path.join(SHARED, "data", "fer2013")
TINY = ["--widths", "4,8", "--limit", "12", "--batch", "16", "--threads", "1", "--epochs", "2"]


def run(*args, timeout=600):
    proc = subprocess.run([PYTHON, TRAINER, *args], capture_output=True, text=True, timeout=timeout)
    return proc.returncode, proc.stdout, proc.stderr


class TrainExpression(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="mt-train-expression-")

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def train(self, name, *extra):
        workdir = os.path.join(self.dir, name)
        code, _, stderr = run("train", "--data", FER, "--workdir", workdir, *TINY, *extra)
        self.assertEqual(code, 0, stderr)
        return workdir

    def export(self, workdir, name, *extra):
        output = os.path.join(self.dir, name)
        code, _, stderr = run("export", "--workdir", workdir, "--output", output, *extra)
        self.assertEqual(code, 0, stderr)
        return output

    def test_resumed_run_equals_unbroken_run_and_export_matches_pytorch(self):
        unbroken = self.train("unbroken")
        stopped = self.train("stopped", "--stop-after", "1")
        with open(os.path.join(stopped, "log.jsonl"), encoding="utf-8") as f:
            self.assertEqual(len(f.readlines()), 1)
        self.train("stopped")
        with open(os.path.join(stopped, "log.jsonl"), encoding="utf-8") as f:
            self.assertEqual(len(f.readlines()), 2)

        reference = os.path.join(self.dir, "reference.json")
        a = self.export(unbroken, "a", "--data", FER, "--reference", reference, "--reference-count", "24")
        b = self.export(stopped, "b")
        with open(a + ".weights", "rb") as fa, open(b + ".weights", "rb") as fb:
            self.assertEqual(fa.read(), fb.read(), "a resumed run ended with other weights")

        proc = subprocess.run([CHECK, a + ".cfg", a + ".weights", reference, FER],
                              capture_output=True, text=True, timeout=300)
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        self.assertIn("24 images", proc.stdout)
        with open(a + ".names", encoding="utf-8") as f:
            self.assertEqual(f.read().split(), ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"])

    def test_eval_every_thins_the_log_but_not_the_training(self):
        every = self.train("every", "--eval-every", "2")
        plain = self.train("plain")
        with open(os.path.join(every, "log.jsonl"), encoding="utf-8") as f:
            entries = [json.loads(line) for line in f]
        self.assertEqual([e["epoch"] for e in entries], [1, 2])
        self.assertNotIn("publictest_mirror", entries[0])
        self.assertIn("publictest_mirror", entries[1], "the last epoch is always measured")
        a, b = self.export(every, "every"), self.export(plain, "plain")
        with open(a + ".weights", "rb") as fa, open(b + ".weights", "rb") as fb:
            self.assertEqual(fa.read(), fb.read(), "measuring less changed the weights")
        code, _, stderr = run("train", "--data", FER, "--workdir", os.path.join(self.dir, "zero"),
                              *TINY, "--eval-every", "0")
        self.assertNotEqual(code, 0)
        self.assertIn("--eval-every", stderr)

    def test_other_options_on_a_checkpoint_are_refused(self):
        workdir = self.train("first", "--stop-after", "1")
        code, _, stderr = run("train", "--data", FER, "--workdir", workdir, *TINY, "--seed", "2")
        self.assertNotEqual(code, 0)
        self.assertIn("use another --workdir or the same options", stderr)

    def test_damaged_checkpoint_is_a_clear_error(self):
        workdir = os.path.join(self.dir, "damaged")
        os.makedirs(workdir)
        with open(os.path.join(workdir, "checkpoint.pt"), "wb") as f:
            f.write(b"PK\x03\x04 not a checkpoint")
        code, _, stderr = run("export", "--workdir", workdir, "--output", os.path.join(self.dir, "x"))
        self.assertNotEqual(code, 0)
        self.assertIn("cannot be read", stderr)
        self.assertNotIn("Traceback", stderr)

    def test_missing_data_is_a_clear_error(self):
        code, _, stderr = run("train", "--data", os.path.join(self.dir, "none"), "--workdir",
                              os.path.join(self.dir, "w"), *TINY)
        self.assertNotEqual(code, 0)
        self.assertIn("must hold FER2013", stderr)


if __name__ == "__main__":
    if subprocess.run([PYTHON, "-c", "import torch"], capture_output=True).returncode != 0:
        print("SKIP: Debian's PyTorch (python3-torch) is not installed: build-aux/setup-deps.sh --train")
        sys.exit(77)
    if not os.path.isdir(os.path.join(FER, "train")):
        print(f"SKIP: {FER} (the shared FER2013 images) is missing")
        sys.exit(77)
    unittest.main()
