"""The session secret is made once, even when several worker processes start at the same moment."""
from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor

from api.security import session_secret


def test_workers_starting_together_share_one_session_secret(tmp_path) -> None:
    with ProcessPoolExecutor(max_workers=8) as pool:
        secrets = set(pool.map(session_secret, [tmp_path / "data"] * 64))
    assert len(secrets) == 1
    assert len(secrets.pop()) == 64
    assert [p.name for p in (tmp_path / "data").iterdir()] == [".session-secret"]
    assert (tmp_path / "data" / ".session-secret").stat().st_mode & 0o077 == 0
