#!/usr/bin/env python3
"""moodtunes-train-audio-mood.py on a small subset of the shared 4Q clips:
it analyses them with the real helper, cross-validates by artist, and writes
a model that the app's loader takes (a library import with that model
analyses a clip), with its provenance and figures in the file.

usage: test-train-audio-mood.py TRAINER ANALYZER MOODTUNES-LIBRARY
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

TRAINER, ANALYZER, LIBRARY_CLI = sys.argv[1:4]
del sys.argv[1:4]
SHARED = os.environ.get("MT_SHARED_DIR", os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared"))
CLIPS = os.path.join(SHARED, "data", "mer4q")
DATA = os.environ["MT_DATA_DIR"]
# Debian's numpy imports from Debian's own interpreter (the python3 first on
# PATH may be another one).
PYTHON = "/usr/bin/python3"


def have_numpy():
    return subprocess.run([PYTHON, "-c", "import numpy"], capture_output=True).returncode == 0


class TrainAudioMood(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="mt-train-audio-")

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def train(self, *extra):
        return subprocess.run([PYTHON, TRAINER, "--analyzer", ANALYZER, "--clips", CLIPS,
                               "--limit", "4", "--folds", "2", "--repeats", "2", "--jobs", "2",
                               "--l2", "0.1", "1", *extra],
                              capture_output=True, text=True, timeout=600)

    def test_subset_trains_a_model_the_app_loads(self):
        data_dir = os.path.join(self.dir, "data")
        shutil.copytree(DATA, data_dir, ignore=shutil.ignore_patterns("screenshots", "demo", "companion", "icons"))
        model_path = os.path.join(data_dir, "moodtunes-audio-model.json")
        proc = self.train("--output", model_path, "--cache", os.path.join(self.dir, "cache.json"))
        self.assertEqual(proc.returncode, 0, proc.stderr)
        with open(model_path, encoding="utf-8") as f:
            model = json.load(f)
        self.assertEqual(model["classes"], ["Q1", "Q2", "Q3", "Q4"])
        self.assertEqual(len(model["weights"]), 4)
        self.assertEqual(len(model["features"]), len(model["mean"]))
        self.assertEqual(len(model["transforms"]), len(model["features"]))
        cv = model["provenance"]["cross_validation"]
        self.assertTrue(0.0 <= cv["balanced_quadrant_accuracy"] <= 1.0)
        self.assertEqual(sum(map(sum, cv["confusion"])), 16)
        self.assertIn("grouped by artist", model["provenance"]["split"])

        # The cache makes a second run analyse nothing (it would fail
        # without the analyzer).
        again = self.train("--cache", os.path.join(self.dir, "cache.json"))
        self.assertEqual(again.returncode, 0, again.stderr)
        self.assertNotIn("analysing", again.stderr)

        # The app takes the model: an import with it analyses a clip.
        music = os.path.join(self.dir, "music")
        os.makedirs(music)
        shutil.copy(os.path.join(CLIPS, "clips", sorted(os.listdir(os.path.join(CLIPS, "clips")))[0]), music)
        env = dict(os.environ, MT_DATA_DIR=data_dir)
        db = os.path.join(self.dir, "library.db")
        imported = subprocess.run([LIBRARY_CLI, "--db", db, "import", "--json", music], env=env,
                                  capture_output=True, text=True, timeout=300)
        self.assertEqual(imported.returncode, 0, imported.stderr)
        songs = json.loads(subprocess.run([LIBRARY_CLI, "--db", db, "list", "--json"], env=env,
                                          capture_output=True, text=True, check=True).stdout)
        songs = songs if isinstance(songs, list) else songs["songs"]
        self.assertEqual(len(songs), 1)
        self.assertTrue(-1.0 <= songs[0]["valence"] <= 1.0)
        self.assertTrue(-1.0 <= songs[0]["arousal"] <= 1.0)

    def test_missing_clips_folder_is_a_clear_error(self):
        proc = subprocess.run([PYTHON, TRAINER, "--analyzer", ANALYZER, "--clips", os.path.join(self.dir, "none")],
                              capture_output=True, text=True, timeout=60)
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn("labels.csv", proc.stderr)


if __name__ == "__main__":
    if not have_numpy():
        print("SKIP: Debian's python3-numpy is not installed (build-aux/setup-deps.sh --tests installs it)")
        sys.exit(77)
    if not os.path.isdir(CLIPS):
        print(f"SKIP: the shared clips are not at {CLIPS}")
        sys.exit(77)
    unittest.main()
