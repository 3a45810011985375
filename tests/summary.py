#!/usr/bin/env python3
"""Add up the results in a test-results folder (TAP from the cmocka unit
tests, JUnit XML from pytest) and print "N passed, N failed" as the last
line.  Exit 1 when anything failed, a runner crashed, or nothing ran."""
import os
import re
import sys
import xml.etree.ElementTree as ET

out = sys.argv[1]
passed = failed = skipped = 0
broken = []
for name in sorted(os.listdir(out)):
    path = os.path.join(out, name)
    if name.endswith(".tap"):
        text = open(path, errors="replace").read()
        ok = len(re.findall(r"^ok \d+", text, re.M))
        bad = len(re.findall(r"^not ok \d+", text, re.M))
        plan = re.search(r"^1\.\.(\d+)", text, re.M)
        rc = open(path[:-4] + ".rc").read().strip()
        passed += ok
        failed += bad
        if not plan or int(plan.group(1)) != ok + bad or (rc != "0" and not bad):
            broken.append("%s (exit %s)" % (name[:-4], rc))
    elif name.endswith(".xml"):
        root = ET.parse(path).getroot()
        suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
        for s in suites:
            total = int(s.get("tests", 0))
            f = int(s.get("failures", 0)) + int(s.get("errors", 0))
            sk = int(s.get("skipped", 0))
            passed += total - f - sk
            failed += f
            skipped += sk
    elif name == "e2e.rc":
        rc = open(path).read().strip()
        if rc not in ("0", "1") and not os.path.exists(os.path.join(out, "e2e.xml")):
            broken.append("pytest (exit %s)" % rc)

for b in broken:
    print("runner failed: %s" % b)
    failed += 1
line = "%d passed, %d failed" % (passed, failed)
if skipped:
    line += ", %d skipped" % skipped
print(line)
sys.exit(1 if failed or passed == 0 else 0)
