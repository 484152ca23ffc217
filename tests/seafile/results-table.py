#!/usr/bin/python3
"""results-table.py STOCK.xml TIER.xml — seafile-server's suite, stock (a) vs tier (b).

Prints one row per test (pytest's JUnit XML of each run), then:
  "regressions: N"            tests that pass on stock and not on the tier
  "stock failures: ..."       tests that fail on stock too (not the tier's doing)
and a last line "N passed, M failed" where passed = tests passing in both runs and
failed = regressions + tests of (a) missing from (b) (+1 if (a) ran no test at all).
"""
import sys
import xml.etree.ElementTree as ET


def outcomes(path):
    res = {}
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError) as e:
        print("cannot read %s: %s" % (path, e))
        return res
    for tc in root.iter("testcase"):
        name = "%s::%s" % (tc.get("classname", "").replace("tests.", "", 1), tc.get("name"))
        if tc.find("failure") is not None or tc.find("error") is not None:
            el = tc.find("failure") if tc.find("failure") is not None else tc.find("error")
            msg = (el.get("message") or "").splitlines()
            res[name] = ("FAIL", msg[0][:100] if msg else "")
        elif tc.find("skipped") is not None:
            res[name] = ("SKIP", "")
        else:
            res[name] = ("PASS", "")
    return res


a, b = outcomes(sys.argv[1]), outcomes(sys.argv[2])
names = sorted(set(a) | set(b))
width = max([len(n) for n in names] + [10])
print("%-*s  %-9s  %-9s" % (width, "test", "(a) stock", "(b) tier"))
passed = failed = 0
regressions, stock_failures = [], []
for n in names:
    ra, rb = a.get(n, ("-", ""))[0], b.get(n, ("-", ""))[0]
    flag = ""
    if ra == "PASS" and rb == "PASS":
        passed += 1
    elif ra == "PASS":
        failed += 1
        flag = "  <== regression"
        regressions.append(n)
    elif ra == "FAIL":
        stock_failures.append((n, a[n][1]))
    print("%-*s  %-9s  %-9s%s" % (width, n, ra, rb, flag))
if not a:
    failed += 1
    print("no result from the stock run")
print("\n(a) stock: %d passed, %d failed, %d skipped; (b) tier: %d passed, %d failed, %d skipped" % (
    sum(v[0] == "PASS" for v in a.values()), sum(v[0] == "FAIL" for v in a.values()),
    sum(v[0] == "SKIP" for v in a.values()), sum(v[0] == "PASS" for v in b.values()),
    sum(v[0] == "FAIL" for v in b.values()), sum(v[0] == "SKIP" for v in b.values())))
print("regressions: %d%s" % (len(regressions), (" (" + ", ".join(regressions) + ")") if regressions else ""))
for n, msg in stock_failures:
    print("fails on stock too: %s — %s (tier: %s)" % (n, msg, b.get(n, ("-",))[0]))
for n in names:
    if b.get(n, ("",))[0] == "FAIL":
        print("tier failure: %s — %s" % (n, b[n][1]))
print("%d passed, %d failed" % (passed, failed))
