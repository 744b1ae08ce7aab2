"""Checks for the Python test scripts: each prints "ok - …" or "FAIL - …"
(with the detail that explains a failure), and the script's exit status
says whether any failed."""
import sys

failures = []


def check(condition, message, detail=""):
    print(("ok - " if condition else "FAIL - ") + message)
    if not condition:
        if detail:
            print(detail.rstrip()[-3000:])
        failures.append(message)
    return condition


def exit_status():
    """0 when every check passed, else 1 after saying how many failed."""
    if failures:
        print("%d check(s) failed" % len(failures))
        return 1
    return 0
