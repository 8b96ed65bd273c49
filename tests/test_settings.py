"""The one settings object: every variable read once, at the edge, checked there."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from computekyc.settings import Settings


def test_every_variable_is_read_into_the_settings(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {
            "COMPUTEKYC_HOME": str(tmp_path / "home"),
            "COMPUTEKYC_GEOIP_DIR": str(tmp_path / "ip"),
            "COMPUTEKYC_SPARK_MASTER": "spark://cluster:7077",
            "COMPUTEKYC_SHARED": str(tmp_path / "shared"),
            "COMPUTEKYC_THREADS": "2",
        }
    )
    assert settings.home == tmp_path / "home"
    assert settings.geoip_dir == tmp_path / "ip"
    assert settings.spark_master == "spark://cluster:7077"
    assert settings.shared_dir == tmp_path / "shared"
    assert settings.threads == 2
    bare = Settings.from_env({"COMPUTEKYC_HOME": str(tmp_path)})
    assert (bare.spark_master, bare.shared_dir, bare.geoip_dir) == (None, None, None)


def test_usage_generate_draws_from_the_settings_shared_folder(tmp_path: Path, shared: Path) -> None:
    def generate(shared_dir: Path) -> subprocess.CompletedProcess[str]:
        env = os.environ | {
            "COMPUTEKYC_HOME": str(tmp_path / "home"),
            "COMPUTEKYC_SHARED": str(shared_dir),
        }
        command = [sys.executable, "-m", "computekyc", "usage", "generate", str(tmp_path / "out")]
        return subprocess.run(
            [*command, "--scale", "0"], env=env, capture_output=True, text=True, timeout=300
        )

    missing = generate(tmp_path / "no-shared")
    assert missing.returncode == 3, missing.stderr
    assert str(tmp_path / "no-shared") in missing.stderr
    made = generate(shared)
    assert made.returncode == 0, made.stderr
    assert (tmp_path / "out" / "truth.json").is_file()


@pytest.mark.parametrize("name", ["linking/geoip.py", "spark.py", "usage/generate.py"])
def test_domain_code_reads_no_environment(name: str) -> None:
    import computekyc

    source = (Path(computekyc.__file__).parent / name).read_text("utf-8")
    assert "os.environ" not in source and "getenv" not in source
