#!/usr/bin/env python3
"""Counts test results in meson's testlog.json files.  A test whose output
has TAP lines counts each `ok`/`not ok` line (`# SKIP` lines as skipped),
plus one failure if it failed without a `not ok` line (a crash, a timeout);
any other test counts once.  Prints `passed failed skipped`."""
import json
import re
import sys

TAP = re.compile(r"^(not ok|ok)\b([^\n]*)", re.M)
GOOD = ("OK", "EXPECTEDFAIL")

passed = failed = skipped = 0
for path in sys.argv[1:]:
    with open(path) as f:
        for line in f:
            t = json.loads(line)
            taps = TAP.findall(t.get("stdout") or "")
            if taps:
                for status, rest in taps:
                    if re.search(r"#\s*(SKIP|TODO)", rest, re.I):
                        skipped += 1
                    elif status == "ok":
                        passed += 1
                    else:
                        failed += 1
                if t["result"] not in GOOD and all(s == "ok" for s, _ in taps):
                    failed += 1
            elif t["result"] == "SKIP":
                skipped += 1
            elif t["result"] in GOOD:
                passed += 1
            else:
                failed += 1
print(passed, failed, skipped)
