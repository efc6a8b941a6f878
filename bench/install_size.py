"""The size of a runtime install: a fresh venv with Parley's runtime dependencies only (no
extras), measured on disk. Used by bench/start_bench.py; on its own:

    python bench/install_size.py
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import tomllib
import venv
from pathlib import Path


def _size_mb(folder: Path) -> float:
    total = sum(f.lstat().st_size for f in folder.rglob("*") if f.is_file() and not f.is_symlink())
    return round(total / 1e6, 1)


def measure_install(repo: Path) -> dict[str, object]:
    """Create a venv, install the runtime dependencies of `repo`'s pyproject.toml into it and
    report the size of its site-packages, largest packages first."""
    project = tomllib.loads((repo / "pyproject.toml").read_text())["project"]
    with tempfile.TemporaryDirectory(prefix="parley-install-") as tmp:
        env = Path(tmp) / "venv"
        venv.create(env, with_pip=True)
        python = env / "bin" / "python"
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", *project["dependencies"]],
            check=True,
        )
        [site] = list(env.glob("lib/python*/site-packages"))
        packages = {p.name: _size_mb(p) for p in site.iterdir() if p.is_dir()}
        largest = dict(sorted(packages.items(), key=lambda kv: -kv[1])[:12])
        return {
            "venv_mb": _size_mb(env),
            "site_packages_mb": _size_mb(site),
            "largest_mb": largest,
            "dependencies": len(project["dependencies"]),
        }


if __name__ == "__main__":
    print(json.dumps(measure_install(Path(__file__).resolve().parents[1]), indent=2))
    sys.exit(0)
