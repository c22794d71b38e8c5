# Parses a JUnit XML report with Python's XML parser and checks it against the common JUnit schema (the one
# Jenkins, GitLab and Ant read: testsuites > testsuite > testcase > failure | error | skipped, with the
# attributes and counts it requires). Prints JSON: the schema violations found and what the report holds.
import json
import re
import sys
import xml.etree.ElementTree as ET

INT = re.compile(r"^\d+$")
DECIMAL = re.compile(r"^\d+(\.\d+)?$")
STAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$")
SUITE_ATTRS = {"name", "tests", "failures", "errors", "skipped", "disabled", "time", "timestamp", "hostname", "id", "package", "log", "group", "file"}
CASE_ATTRS = {"name", "classname", "time", "assertions", "status", "file", "line"}
CASE_CHILDREN = {"skipped", "error", "failure", "system-out", "system-err"}

problems = []
root = ET.parse(sys.argv[1]).getroot()
if root.tag != "testsuites":
    problems.append("root is <%s>, not <testsuites>" % root.tag)
suites = []
for suite in root:
    if suite.tag != "testsuite":
        problems.append("<%s> under <testsuites>" % suite.tag)
        continue
    a = suite.attrib
    for need in ("name", "tests"):
        if need not in a:
            problems.append("testsuite without %s" % need)
    for k in a:
        if k not in SUITE_ATTRS:
            problems.append("testsuite attribute %s is not in the schema" % k)
    for k in ("tests", "failures", "errors", "skipped", "id"):
        if k in a and not INT.match(a[k]):
            problems.append("testsuite %s=%r is not an integer" % (k, a[k]))
    if "time" in a and not DECIMAL.match(a["time"]):
        problems.append("testsuite time=%r is not a decimal" % a["time"])
    if "timestamp" in a and not STAMP.match(a["timestamp"]):
        problems.append("testsuite timestamp=%r is not an ISO 8601 date-time without zone" % a["timestamp"])
    cases = []
    for case in suite:
        if case.tag in ("properties", "system-out", "system-err"):
            continue
        if case.tag != "testcase":
            problems.append("<%s> under <testsuite>" % case.tag)
            continue
        if "name" not in case.attrib:
            problems.append("testcase without name")
        for k in case.attrib:
            if k not in CASE_ATTRS:
                problems.append("testcase attribute %s is not in the schema" % k)
        kinds = [c.tag for c in case if c.tag in ("skipped", "error", "failure")]
        for c in case:
            if c.tag not in CASE_CHILDREN:
                problems.append("<%s> under <testcase>" % c.tag)
        if len(kinds) > 1:
            problems.append("testcase %s has %s" % (case.get("name"), kinds))
        result = case.find(kinds[0]) if kinds else None
        out = case.find("system-out")
        cases.append({
            "name": case.get("name"), "classname": case.get("classname"), "kind": kinds[0] if kinds else "pass",
            "message": result.get("message") if result is not None else None,
            "type": result.get("type") if result is not None else None,
            "text": (result.text or "") if result is not None else "",
            "out": (out.text or "") if out is not None else "",
        })
    counted = {k: sum(1 for c in cases if c["kind"] == v) for k, v in (("failures", "failure"), ("errors", "error"), ("skipped", "skipped"))}
    counted["tests"] = len(cases)
    for k, n in counted.items():
        if k in a and int(a[k]) != n:
            problems.append("testsuite %s says %s=%s, holds %d" % (a.get("name"), k, a[k], n))
    suites.append({"name": a.get("name"), "hostname": a.get("hostname"), "counts": counted, "cases": cases})
for k in ("tests", "failures", "errors", "skipped"):
    if k in root.attrib and int(root.get(k)) != sum(s["counts"][k] for s in suites):
        problems.append("testsuites %s=%s is not the sum of its suites" % (k, root.get(k)))
print(json.dumps({"problems": problems, "suites": suites}))
