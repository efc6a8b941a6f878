"""Scan Parley's installed dependencies for known vulnerabilities with pip-audit (CI step).

pip-audit needs its advisory database (PyPI's JSON API or OSV) online. A probe first audits a
release with a published advisory (requests 2.19.0, CVE-2018-18074): when that comes back
clean, the database is out of reach and the scan is skipped with a message saying so, rather
than passing silently or failing CI for a network it does not have.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

PROBE = "requests==2.19.0"


def pip_audit(*args: str) -> subprocess.CompletedProcess[str]:
    tool = Path(sys.executable).with_name("pip-audit")
    return subprocess.run(
        [str(tool), "--vulnerability-service", "pypi", "--format", "json", *args],
        capture_output=True,
        text=True,
        timeout=900,
    )


def database_reachable() -> bool:
    with tempfile.TemporaryDirectory() as folder:
        requirements = Path(folder) / "probe.txt"
        requirements.write_text(PROBE + "\n")
        result = pip_audit("--requirement", str(requirements), "--no-deps", "--disable-pip")
    try:
        report = json.loads(result.stdout or "{}")
    except ValueError:
        return False
    return any(d.get("vulns") for d in report.get("dependencies", []))


def main() -> int:
    if not database_reachable():
        print(
            "dependency audit SKIPPED: pip-audit cannot reach its vulnerability database from "
            f"this machine (the probe {PROBE} came back without its known advisory)."
        )
        return 0
    result = pip_audit("--local", "--skip-editable")
    report = json.loads(result.stdout or "{}")
    found = [
        f"{d['name']} {d['version']}: {', '.join(v['id'] for v in d['vulns'])}"
        for d in report.get("dependencies", [])
        if d.get("vulns")
    ]
    for line in found:
        print(f"vulnerable: {line}")
    print(
        f"dependency audit: {len(report.get('dependencies', []))} packages, {len(found)} vulnerable"
    )
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
