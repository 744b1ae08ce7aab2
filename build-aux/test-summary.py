#!/usr/bin/env python3
"""Prints 'N passed, N failed, N skipped' from one or more of meson's
testlog.json files (the main build's and the fuzz build's), summed.

Exits non-zero when a test failed, when a log is missing (counted as a
failure), or when no test ran at all."""
import json
import sys

counts = {"passed": 0, "failed": 0, "skipped": 0}
for path in sys.argv[1:]:
    try:
        with open(path, encoding="utf-8") as log:
            for line in log:
                if not line.strip():
                    continue
                result = json.loads(line)["result"]
                if result in ("OK", "EXPECTEDFAIL"):
                    counts["passed"] += 1
                elif result == "SKIP":
                    counts["skipped"] += 1
                else:
                    counts["failed"] += 1
    except OSError as err:
        print(f"no test log: {err}", file=sys.stderr)
        counts["failed"] += 1

print(f"{counts['passed']} passed, {counts['failed']} failed, {counts['skipped']} skipped")
ran = counts["passed"] + counts["failed"]
sys.exit(1 if counts["failed"] or ran == 0 else 0)
