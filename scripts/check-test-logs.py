#!/usr/bin/env python3
"""Searches the whole test run's logs again once the suite is done.

The integration suite (crates/server/tests/api/log_capture.rs) appends every log line it
captured to $PAPAY_TEST_LOG_FILE and every secret the tests configured (keys, tokens) to
$PAPAY_TEST_LOG_FILE.secrets. This checks that each line is one JSON object and that no
line holds any secret, and prints one verdict line. Exit 1 on any problem.
"""
import json
import sys


def main(path: str) -> int:
    with open(path + ".secrets", encoding="utf-8") as f:
        secrets = sorted({s.rstrip("\n") for s in f if s.strip()})
    lines = problems = 0
    with open(path, encoding="utf-8", errors="replace") as f:
        for number, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line:
                continue
            lines += 1
            try:
                json.loads(line)
            except ValueError as e:
                problems += 1
                print(f"line {number} is not JSON ({e}): {line[:300]}")
            for i, s in enumerate(secrets):
                if s in line:
                    problems += 1
                    print(f"line {number} holds secret #{i}: {line.replace(s, '<SECRET>')[:300]}")
    print(f"test-logs: {lines} lines, {len(secrets)} secrets searched, {problems} problems")
    return 1 if problems or lines == 0 or not secrets else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
