#!/usr/bin/env python3
"""Runs one libFuzzer target for a bounded time on its seed corpus.

  run-fuzzer.py --skip REASON
  run-fuzzer.py TARGET SEEDS SECONDS ARTIFACTS [DICT [SEED-FILE...]]

New inputs go to a temporary folder (the seed corpus in the source tree is
only read).  Running out of time is a pass; a crash, a failed invariant, a
leak, a timeout (one input over 10 s) or running out of memory is a failure,
and the input that did it is kept in ARTIFACTS.  The last line says how far
the fuzzer got: runs, runs per second, coverage."""
import os
import re
import shutil
import subprocess
import sys
import tempfile


def main():
    if sys.argv[1] == "--skip":
        print(f"skipped: {sys.argv[2]}")
        return 77
    target, seeds, seconds, artifacts = sys.argv[1:5]
    dictionary = sys.argv[5] if len(sys.argv) > 5 and sys.argv[5] else None
    seed_files = sys.argv[6:]
    name = os.path.basename(target)
    os.makedirs(artifacts, exist_ok=True)
    env = dict(os.environ)
    # Our own options, whatever the test run set for the main build (which
    # turns leak checks off for Darknet's sake: these targets load no
    # Darknet, so a leak is a finding here).  GLib criticals are made fatal
    # by the targets themselves.
    env["ASAN_OPTIONS"] = os.environ.get("MT_FUZZ_ASAN_OPTIONS", "detect_leaks=1:allocator_may_return_null=1")
    env["UBSAN_OPTIONS"] = "print_stacktrace=1:halt_on_error=1"
    with tempfile.TemporaryDirectory(prefix=f"mt-{name}-") as corpus:
        # Files that seed it from elsewhere in the tree (the shipped models).
        for path in seed_files:
            shutil.copy(path, corpus)
        command = [target, f"-max_total_time={seconds}", "-timeout=10", "-rss_limit_mb=2560",
                   "-print_final_stats=1", f"-artifact_prefix={artifacts}/{name}-"]
        if dictionary:
            command.append(f"-dict={dictionary}")
        command += [corpus, seeds]
        print(" ".join(command), flush=True)
        result = subprocess.run(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True, errors="replace")
        output = result.stdout
        head = [line for line in output.splitlines()[:40] if line.startswith("INFO:")]
        print("\n".join(head))
        print(output[-20000:])
        n_new = len(os.listdir(corpus))

    runs = re.findall(r"stat::number_of_executed_units:\s+(\d+)", output)
    speed = re.findall(r"stat::average_exec_per_sec:\s+(\d+)", output)
    cov = re.findall(r"cov: (\d+) ft: (\d+)", output)
    counters = re.findall(r"\((\d+) inline 8-bit counters\)", output)
    print(f"{name}: {runs[-1] if runs else '?'} runs, {speed[-1] if speed else '?'} exec/s, "
          f"cov {cov[-1][0] if cov else '?'} of {counters[0] if counters else '?'} edges, "
          f"ft {cov[-1][1] if cov else '?'}, {n_new} new inputs, exit status {result.returncode}")
    if result.returncode != 0:
        found = [f for f in os.listdir(artifacts) if f.startswith(name + "-")]
        print(f"FINDING in {name}: kept in {artifacts}: {' '.join(sorted(found)) or '(none written)'}\n"
              f"Reproduce with: {target} FILE; once fixed, add the file to {seeds}/ "
              "so every build replays it.")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
