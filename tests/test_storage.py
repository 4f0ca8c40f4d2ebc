"""The file store: random names, paths that stay inside, files that follow their transaction."""

from __future__ import annotations

import pytest

from napo_tracker import storage


def test_saved_files_have_random_names_inside_the_store(app):
    stored = storage.save(b"hello")
    path = storage.path_for(stored.stored_name)
    assert path.parent == storage.files_dir() and b"hello" not in path.read_bytes()  # encrypted at rest
    assert storage.read(stored.stored_name) == b"hello"
    assert stored.sha256 == "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
    assert storage.save(b"hello").stored_name != stored.stored_name
    for bad in ("../" + stored.stored_name, "/etc/passwd", "..", "", "a" * 10, stored.stored_name + "/.."):
        with pytest.raises(ValueError):
            storage.path_for(bad)
    storage.delete(stored.stored_name)
    assert not path.exists()
