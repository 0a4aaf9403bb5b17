"""kmlint.engine.paths.resolved is Path.resolve, resolving each directory once
per run (the run's session, kmlint.engine.session)."""

import os
from pathlib import Path

from kmlint.engine import paths, session


def test_resolved_matches_path_resolve(tmp_path, monkeypatch):
    real = tmp_path / "real"
    (real / "pkg").mkdir(parents=True)
    (real / "pkg" / "mod.py").write_text("x = 1\n")
    (tmp_path / "linked").symlink_to(real, target_is_directory=True)
    (real / "alias.py").symlink_to(real / "pkg" / "mod.py")
    monkeypatch.chdir(real)
    cases = [Path("pkg/mod.py"), Path("alias.py"), tmp_path / "linked" / "pkg" / "mod.py", Path("../linked/alias.py"),
             Path("pkg/../pkg/mod.py"), Path("pkg/missing.py"), Path("."), Path("pkg/.."), tmp_path / "linked"]
    session.begin()
    for case in cases:
        assert paths.resolved(case) == case.resolve(), case
    # a directory replaced by a symlink after forget() is seen anew
    os.rename(real / "pkg", real / "pkg2")
    (real / "pkg").symlink_to(real / "pkg2", target_is_directory=True)
    session.begin()
    assert paths.resolved(Path("pkg/mod.py")) == real / "pkg2" / "mod.py"
