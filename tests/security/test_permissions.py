from __future__ import annotations

import os
from pathlib import Path

import pytest

from parley.security.errors import InsecureFileError
from parley.security.permissions import check_private_file, file_exposure


def _secret(tmp_path: Path, mode: int) -> Path:
    path = tmp_path / "secret"
    path.write_text("s3cret-value\n")
    path.chmod(mode)
    return path


def test_private_file_passes(tmp_path: Path) -> None:
    path = _secret(tmp_path, 0o600)
    assert file_exposure(path) is None
    check_private_file(path)


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o644, 0o660])
def test_group_or_world_access_is_refused_with_the_chmod_to_run(tmp_path: Path, mode: int) -> None:
    path = _secret(tmp_path, mode)
    with pytest.raises(InsecureFileError) as caught:
        check_private_file(path)
    message = str(caught.value)
    assert f"chmod 600 {path}" in message
    assert f"{mode:04o}" in message
    assert "s3cret-value" not in message


@pytest.mark.skipif(os.geteuid() != 0, reason="only root can give a file to another user")
def test_file_owned_by_another_user_is_refused(tmp_path: Path) -> None:
    path = _secret(tmp_path, 0o600)
    os.chown(path, 54321, -1)
    with pytest.raises(InsecureFileError, match="owned by uid 54321"):
        check_private_file(path)
