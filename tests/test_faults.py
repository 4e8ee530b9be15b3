"""A full disk and a read-only data/ folder: real faults, clear messages, nothing lost.

The faults are real file systems, not mocks: a tmpfs of a few hundred KiB
(writes past it fail with ENOSPC) and a tmpfs remounted read-only (EROFS).
Mounting needs root, which CI and this project's machines have; elsewhere a
folder without write permission stands in for read-only, and the full-disk
tests are skipped with the reason.
"""

from __future__ import annotations

import errno
import logging
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from digits import config, data, store
from digits.atomic import reserve, storage_advice, write_bytes_atomic
from tests.conftest import ROOT, TIMEOUT, fake_canvas, run_draw_page, stroke_canvas

ONE = stroke_canvas([(40, 160), (280, 160)], width=22)


def mount_tmpfs(target: Path, options: str) -> bool:
    if os.geteuid() != 0 or shutil.which("mount") is None:
        return False
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(target)], capture_output=True)
    return done.returncode == 0


def unmount(target: Path) -> None:
    subprocess.run(["umount", "-l", str(target)], capture_output=True)


@pytest.fixture
def small_disk(tmp_path):
    """A real 512 KiB file system, empty."""
    disk = tmp_path / "disk"
    disk.mkdir()
    if not mount_tmpfs(disk, "size=512k"):
        pytest.skip("a small file system needs root to mount a tmpfs")
    yield disk
    unmount(disk)


def fill(disk: Path) -> None:
    """Write a filler file until ``disk`` has no space left."""
    with open(disk / "filler", "ab", buffering=0) as f:
        with pytest.raises(OSError) as full:
            while True:
                f.write(bytes(4096))
    assert full.value.errno == errno.ENOSPC


@pytest.fixture
def read_only(tmp_path):
    """A folder to fill, then make read-only: ``read_only(fill_it)`` returns the folder."""
    folders = []

    def make(populate=lambda folder: None) -> Path:
        folder = tmp_path / f"ro{len(folders)}"
        folder.mkdir()
        mounted = mount_tmpfs(folder, "size=4m")
        populate(folder)
        if mounted:
            subprocess.run(["mount", "-o", "remount,ro", str(folder)], check=True)
        elif os.geteuid() != 0:
            for path in [folder, *folder.rglob("*")]:
                path.chmod(0o555 if path.is_dir() else 0o444)
        else:
            pytest.skip("root can write anywhere unless it can mount a read-only tmpfs")
        folders.append((folder, mounted))
        return folder

    yield make
    for folder, mounted in folders:
        if mounted:
            unmount(folder)
        else:
            for path in [folder, *folder.rglob("*")]:
                path.chmod(0o755)


def test_the_read_only_fixture_really_refuses_writes(read_only):
    folder = read_only()
    with pytest.raises(OSError) as refused:
        (folder / "x").write_bytes(b"x")
    assert refused.value.errno in (errno.EROFS, errno.EACCES)


def test_reserve_finds_a_full_disk_and_leaves_nothing_behind(small_disk):
    reserve(small_disk, 100_000)  # fits
    with pytest.raises(OSError) as full:
        reserve(small_disk, 1 << 20)
    assert storage_advice(full.value).startswith("the disk is full")
    assert list(small_disk.iterdir()) == []


def test_an_atomic_write_on_a_full_disk_keeps_the_old_file(small_disk):
    target = small_disk / "report.json"
    target.write_bytes(b"old")
    fill(small_disk)
    with pytest.raises(OSError):
        write_bytes_atomic(target, bytes(100_000))
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in small_disk.iterdir()) == ["filler", "report.json"]  # no temporary left


def add_one(conn, label: int = 1) -> int:
    rng = np.random.default_rng(label)
    return store.add(conn, image=rng.random((28, 28), dtype=np.float32), canvas_png=rng.bytes(6000),
                     probs=np.full(10, 0.1, np.float32), label=label, model="strong", session="s")


def test_a_full_disk_refuses_a_drawing_and_keeps_the_ones_stored(small_disk):
    conn = store.connect(small_disk / "drawings.sqlite")
    added = []
    with pytest.raises(Exception) as full:
        for i in range(1000):
            add_one(conn, i % 10)
            added.append(i % 10)
    assert "full" in storage_advice(full.value)
    # A drawing is about 10 pages of WAL (the row, its reading, two indexes, the totals): 512 KiB holds a few.
    assert 2 < len(added) < 1000
    rows = store.load(conn)
    assert list(rows.labels) == added  # every drawing stored before the disk filled is still there


def test_a_read_only_data_folder_is_reported_by_the_store(read_only):
    folder = read_only()
    with pytest.raises(store.StoreError) as refused:
        store.connect(folder / "drawings.sqlite")
    assert storage_advice(refused.value).startswith("the folder is not writable")


def test_mnist_still_loads_when_its_cache_folder_is_read_only(fake_mnist, read_only, caplog):
    folder, ((x_train, _), _) = fake_mnist
    cache = read_only()
    with caplog.at_level(logging.WARNING):
        (x, _), _ = data.load_mnist(folder, cache_dir=cache)
    assert np.array_equal(x, x_train)
    assert "could not write the cache" in caplog.text
    assert list(cache.iterdir()) == []


# --- train.py: a full or read-only output folder is found before training --------------------

def shipped_files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def copy_seed_model(out: Path) -> None:
    shutil.copytree(ROOT / "model" / "seed", out / "seed")


def test_train_on_a_read_only_model_folder_stops_before_training(fake_mnist, read_only, capsys):
    import train

    folder, _ = fake_mnist
    out = read_only(copy_seed_model)
    before = shipped_files(out / "seed")
    with pytest.raises(train.SaveError) as refused:
        train.main(["--arch", "seed", "--name", "seed", "--dry-run", "--data-dir", str(folder), "--out", str(out)])
    message = str(refused.value)
    assert "not writable" in message and "Nothing was trained" in message and "--out" in message
    assert "Epoch" not in capsys.readouterr().out
    assert shipped_files(out / "seed") == before


def test_a_disk_that_fills_during_training_keeps_the_old_model(fake_mnist, tmp_path, monkeypatch):
    """The preflight passes; another program fills the disk while training runs; the save fails cleanly."""
    import train

    folder, _ = fake_mnist
    disk = tmp_path / "disk"
    disk.mkdir()
    if not mount_tmpfs(disk, "size=12m"):
        pytest.skip("a small file system needs root to mount a tmpfs")
    try:
        copy_seed_model(disk)
        before = shipped_files(disk / "seed")
        train_from_scratch = train.train_from_scratch

        def train_then_fill(*args):
            trained = train_from_scratch(*args)
            fill(disk)
            return trained

        monkeypatch.setattr(train, "train_from_scratch", train_then_fill)
        with pytest.raises(train.SaveError) as failed:
            train.main(["--arch", "seed", "--name", "seed", "--dry-run", "--data-dir", str(folder),
                        "--out", str(disk)])
        assert "disk is full" in str(failed.value) and "could not be saved" in str(failed.value)
        assert shipped_files(disk / "seed") == before
    finally:
        unmount(disk)


# --- The app: a clear message, and the drawing is not lost ----------------------------------------

def click_right(at):
    with fake_canvas(ONE):
        next(b for b in at.button if b.key.startswith("right-")).click().run()
    return at


@pytest.fixture(autouse=True)
def fresh_caches():
    import streamlit as st

    st.cache_resource.clear()  # the drawings database connection is cached per server
    yield
    st.cache_resource.clear()


def test_saving_to_a_read_only_data_folder_explains_and_keeps_the_drawing(read_only, monkeypatch):
    monkeypatch.setattr(config, "DATA_DIR", read_only())
    at = click_right(run_draw_page(ONE))
    assert not at.exception
    message = at.error[0].value
    assert "Could not save the drawing" in message and "not writable" in message
    assert "DIGITS_DATA_DIR" in message and "still here" in message
    assert at.metric[0].value == "1"  # the answer and the drawing stay on screen


def test_saving_on_a_full_disk_explains_and_a_retry_works_once_there_is_room(small_disk, monkeypatch):
    monkeypatch.setattr(config, "DATA_DIR", small_disk)
    run_draw_page(ONE)  # nothing stored yet: the database does not exist
    fill(small_disk)
    at = click_right(run_draw_page(ONE))
    assert not at.exception
    assert "disk is full" in at.error[0].value
    (small_disk / "filler").unlink()  # room again: the same click now saves the same drawing
    at = click_right(at)
    assert not at.error
    assert list(store.load(store.connect(small_disk / "drawings.sqlite")).labels) == [1]


def test_my_drawings_and_class_explain_an_unreadable_data_folder(read_only, monkeypatch):
    from streamlit.testing.v1 import AppTest

    monkeypatch.setattr(config, "DATA_DIR", read_only())
    for page in ("my_drawings", "classroom"):
        at = AppTest.from_file(str(ROOT / "pages" / f"{page}.py"), default_timeout=TIMEOUT)
        at.run()
        assert not at.exception
        assert "not writable" in at.error[0].value and "DIGITS_DATA_DIR" in at.error[0].value
