#!/usr/bin/env python3
"""moodtunes-train-head on bad and tiny inputs: empty class folders and
crafted feature caches are clear errors (once an unsigned underflow and a
32-bit size overflow), and a few real FER2013 images train a head whose
files the analyzer's validator accepts.

usage: test-train-head.py MOODTUNES-TRAIN-HEAD
"""
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import unittest

TRAIN_HEAD = sys.argv.pop(1)
SHARED = os.environ.get("MT_SHARED_DIR", os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared"))
FER_TRAIN = os.path.join(SHARED, "data", "fer2013", "train")
EMOTIONS = ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"]


def run(*args):
    proc = subprocess.run([TRAIN_HEAD, *args], capture_output=True, text=True, timeout=300)
    return proc.returncode, proc.stdout, proc.stderr


class TrainHead(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="mt-train-head-")

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def folders(self, name, per_class=0):
        root = os.path.join(self.dir, name)
        for e in EMOTIONS:
            os.makedirs(os.path.join(root, e))
            if per_class:
                files = sorted(os.listdir(os.path.join(FER_TRAIN, e)))[:per_class]
                for f in files:
                    shutil.copy(os.path.join(FER_TRAIN, e, f), os.path.join(root, e, f))
        return root

    def test_empty_training_set_is_an_error(self):
        code, _, stderr = run("--train", self.folders("empty"), "--epochs", "2")
        self.assertEqual(code, 1, stderr)
        self.assertIn("no images under", stderr)

    def test_crafted_cache_is_ignored(self):
        cache = os.path.join(self.dir, "cache")
        # n * (dim * 4 + 29) wraps around 32 bits to a small size, and the file
        # is that small: once, this copied gigabytes from a few bytes.
        for n, dim in ((0xFFFFFFFF, 0x40000001), (1, 256), (0, 256), (3, 255)):
            with open(cache + ".train", "wb") as f:
                f.write(struct.pack("<II", n, dim) + b"\x07" * 64)
            code, _, stderr = run("--train", self.folders("empty-%d-%d" % (n, dim)), "--cache", cache,
                                  "--epochs", "2")
            self.assertEqual(code, 1, stderr)
            self.assertIn("ignoring the cache", stderr)
            self.assertIn("no images under", stderr)

    @unittest.skipUnless(os.path.isdir(FER_TRAIN), "FER2013 Training is not in ../shared")
    def test_tiny_real_set_trains_and_caches(self):
        train = self.folders("tiny", per_class=3)
        cache = os.path.join(self.dir, "features")
        out = os.path.join(self.dir, "out")
        code, stdout, stderr = run("--train", train, "--choose", train, "--cache", cache, "--epochs", "3",
                                   "--output", out)
        self.assertEqual(code, 0, stderr)
        self.assertIn("head alone on its training images", stdout)
        self.assertTrue(os.path.getsize(cache + ".train") > 8)
        for ext in (".cfg", ".weights", ".names"):
            self.assertTrue(os.path.isfile(os.path.join(out, "expression-head" + ext)))
        # Again from the cache: the same figures.
        code, again, stderr = run("--train", train, "--choose", train, "--cache", cache, "--epochs", "3")
        self.assertEqual(code, 0, stderr)
        self.assertNotIn("ignoring the cache", stderr)
        self.assertEqual(stdout.splitlines()[0], again.splitlines()[0])


if __name__ == "__main__":
    unittest.main(verbosity=2)
