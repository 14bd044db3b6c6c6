"""convviz.data.load_cifar10: where it looks, what it returns, how it fails.

Synthetic batch folders (written here in the official format) cover the source
order and the failure modes anywhere; ``cifar10_dir`` (conftest) adds real images.
"""
from __future__ import annotations

import io
import os
import pickle
import shutil
import socket
import struct
import subprocess
import sys
import tarfile
import time
import tracemalloc
import types

import numpy as np
import pytest

from convviz import data
from convviz.data import CLASS_NAMES, Cifar10Error, Cifar10NotFoundError, load_cifar10


class _Py2Pickler(pickle._Pickler):
    """Writes bytes as Python 2 ``str`` opcodes, like the official batch files."""

    dispatch = pickle._Pickler.dispatch.copy()

    def save_bytes(self, obj):
        op = pickle.SHORT_BINSTRING + bytes([len(obj)]) if len(obj) < 256 else \
            pickle.BINSTRING + struct.pack("<i", len(obj))
        self.write(op + obj)
        self.memoize(obj)

    dispatch[bytes] = save_bytes


def _dump(obj, file, py2=False):
    if not py2:
        file.write_bytes(pickle.dumps(obj, protocol=4))
        return
    out = io.BytesIO()
    _Py2Pickler(out, protocol=2).dump(obj)
    file.write_bytes(out.getvalue().replace(b"cnumpy._core.multiarray\n", b"cnumpy.core.multiarray\n"))


def write_batches(root, train=(10, 10, 10, 10, 10), n_test=20, seed=0, ext=".png", py2=False):
    """A cifar-10-batches-py folder under ``root``; ``train`` gives each batch's size.

    Labels cycle 0..9, pixels are random. Returns the folder.
    """
    folder = root / data.DIRNAME
    folder.mkdir(parents=True)
    rng = np.random.default_rng(seed)
    _dump({b"label_names": [c.encode() for c in CLASS_NAMES], b"num_vis": 3072},
          folder / "batches.meta", py2)
    for name, n in [*zip(data.TRAIN_FILES, train), ("test_batch", n_test)]:
        _dump({b"batch_label": name.encode(), b"labels": [i % 10 for i in range(n)],
               b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8),
               b"filenames": [f"img_{i}{ext}".encode() for i in range(n)]}, folder / name, py2)
    return folder


def make_tar(folder, archive, extra=()):
    """``archive`` (tar.gz) holding ``folder`` as cifar-10-batches-py/, plus ``extra`` members."""
    with tarfile.open(archive, "w:gz", compresslevel=1) as tar:
        tar.add(folder, arcname=data.DIRNAME)
        for info, payload in extra:
            tar.addfile(info, io.BytesIO(payload) if payload is not None else None)
    return archive


def _never_online(*args, **kwargs):
    raise AssertionError("load_cifar10 tried to go online")


@pytest.fixture
def isolated(tmp_path, monkeypatch):
    """No CONVVIZ_CIFAR10, an empty Keras home, and no network check allowed."""
    monkeypatch.delenv("CONVVIZ_CIFAR10", raising=False)
    keras_home = tmp_path / "keras_home"
    keras_home.mkdir()
    monkeypatch.setenv("KERAS_HOME", str(keras_home))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setattr(data, "_reachable", _never_online)
    return keras_home / "datasets"


# --- where it looks ---------------------------------------------------------------

def test_path_beats_env_beats_cache(tmp_path, isolated, monkeypatch):
    arg = write_batches(tmp_path / "arg", train=(3, 3, 3, 3, 3))
    env = write_batches(tmp_path / "env", train=(4, 4, 4, 4, 4))
    write_batches(isolated, train=(5, 5, 5, 5, 5))
    monkeypatch.setenv("CONVVIZ_CIFAR10", str(env))

    got = load_cifar10(path=arg)
    assert (len(got.y_train), got.source) == (15, "CIFAR-10 from path= argument (cifar-10-batches-py)")
    got = load_cifar10()
    assert (len(got.y_train), got.source) == (20, "CIFAR-10 from CONVVIZ_CIFAR10 (cifar-10-batches-py)")
    monkeypatch.delenv("CONVVIZ_CIFAR10")
    got = load_cifar10()
    assert (len(got.y_train), got.source) == (25, "CIFAR-10 from Keras cache (cifar-10-batches-py)")
    assert got.path == isolated / data.DIRNAME


@pytest.mark.parametrize("layout", ["cifar-10-batches-py", "cifar-10-batches-py-target",
                                    "cifar-10-python.tar.gz"])
def test_keras_cache_layouts_under_home(tmp_path, isolated, monkeypatch, layout):
    monkeypatch.delenv("KERAS_HOME")
    datasets = tmp_path / "home" / ".keras" / "datasets"
    if layout == "cifar-10-python.tar.gz":
        datasets.mkdir(parents=True)
        make_tar(write_batches(tmp_path / "src"), datasets / layout)
    elif layout == "cifar-10-batches-py-target":  # what Keras 3's cifar10.load_data leaves
        write_batches(datasets / layout)
    else:
        write_batches(datasets)
    got = load_cifar10()
    assert got.source.startswith("CIFAR-10 from Keras cache")
    assert len(got.y_train) == 50 and datasets in got.path.parents


def test_path_forms_folder_parent_and_targz(cifar10_dir, tmp_path):
    as_folder = load_cifar10(path=cifar10_dir)
    as_parent = load_cifar10(path=str(cifar10_dir.parent))
    archive = make_tar(cifar10_dir, tmp_path / data.ARCHIVE)
    as_tar = load_cifar10(path=archive)
    assert as_folder.source.endswith("(cifar-10-batches-py)")
    assert as_parent.source.endswith("(folder holding cifar-10-batches-py)")
    assert as_tar.source.endswith("(cifar-10-python.tar.gz)")
    assert as_tar.path == tmp_path / data.DIRNAME and as_tar.path.stat().st_mode & 0o777 == 0o755
    assert sorted(p.name for p in tmp_path.iterdir()) == [data.DIRNAME, data.ARCHIVE]
    for got in (as_parent, as_tar, load_cifar10(path=tmp_path)):  # unpacked copy reused
        for a, b in zip(got, as_folder):
            for u, v in zip(a, b):
                np.testing.assert_array_equal(u, v)


def test_folder_holding_only_the_tarball(tmp_path):
    (tmp_path / "dl").mkdir()
    make_tar(write_batches(tmp_path / "src"), tmp_path / "dl" / data.ARCHIVE)
    got = load_cifar10(path=tmp_path / "dl")
    assert got.source == "CIFAR-10 from path= argument (folder holding cifar-10-python.tar.gz)"
    assert len(got.y_test) == 20


@pytest.mark.parametrize("where", ["path", "env"])
def test_explicit_source_that_is_not_cifar_is_an_error_not_a_fallback(tmp_path, isolated,
                                                                       monkeypatch, where):
    write_batches(isolated)  # a good cache that must not be used instead
    bad = tmp_path / "half"
    bad.mkdir()
    (bad / "data_batch_1").write_bytes(b"")
    kwargs = {"path": bad} if where == "path" else {}
    if where == "env":
        monkeypatch.setenv("CONVVIZ_CIFAR10", str(bad))
    with pytest.raises(Cifar10NotFoundError, match="lacks batches.meta, data_batch_2"):
        load_cifar10(**kwargs)
    with pytest.raises(Cifar10NotFoundError, match="does not exist"):
        load_cifar10(path=tmp_path / "nowhere")


# --- what it returns ------------------------------------------------------------

def test_real_images_shapes_dtypes_labels_names(cifar10_dir):
    got = load_cifar10(path=cifar10_dir)
    (x_train, y_train), (x_test, y_test), names = got
    assert x_train.shape[1:] == x_test.shape[1:] == (32, 32, 3)
    assert x_train.dtype == x_test.dtype == y_train.dtype == y_test.dtype == np.uint8
    assert y_train.shape == (len(x_train),) and y_test.shape == (len(x_test),)
    assert set(np.unique(y_train)) == set(np.unique(y_test)) == set(range(10))
    assert names == CLASS_NAMES
    assert 60 < x_test.mean() < 200 and x_test.std() > 30  # pictures, not zeros or noise
    # neighbouring pixels of a photo agree far more than the R, G, B planes of noise would
    assert np.abs(np.diff(x_test.astype(np.int16), axis=2)).mean() < 40
    assert os.sep not in got.source and str(cifar10_dir) not in repr(got)
    assert repr(got).startswith(f"Cifar10(train={len(y_train)}, test={len(y_test)}, classes=10")


def test_pixel_layout_uneven_batches_and_py2_pickles(tmp_path):
    folder = write_batches(tmp_path, train=(2, 10, 10, 10, 18), py2=True)
    got = load_cifar10(path=folder)
    assert got.x_train.shape == (50, 32, 32, 3) and got.x_train.flags.c_contiguous
    assert data.mapped_file(got.x_train) is not None  # a compact map, not a view of the pickle
    rows, offset = [], 0
    for name in data.TRAIN_FILES:
        with open(folder / name, "rb") as f:
            batch = pickle.load(f, encoding="bytes")
        rows.append(batch[b"data"])
    planes = np.concatenate(rows)
    # official layout: each row is the R plane, then G, then B, each 32x32 row-major
    assert got.x_train[7, 3, 5, 0] == planes[7, 0 * 1024 + 3 * 32 + 5]
    assert got.x_train[40, 31, 0, 2] == planes[40, 2 * 1024 + 31 * 32 + 0]
    np.testing.assert_array_equal(got.x_train, planes.reshape(50, 3, 32, 32).transpose(0, 2, 3, 1))
    np.testing.assert_array_equal(got.y_train, [i % 10 for n in (2, 10, 10, 10, 18) for i in range(n)])


def test_jpeg_copy_is_named_in_the_source(tmp_path):
    assert load_cifar10(path=write_batches(tmp_path / "a", ext=".jpg")).source.startswith(
        "CIFAR-10 (JPEG copy) from")
    assert load_cifar10(path=write_batches(tmp_path / "b")).source.startswith("CIFAR-10 from")


def test_subset_is_balanced_aligned_and_seeded(cifar10_dir):
    full = load_cifar10(path=cifar10_dir)
    a = load_cifar10(path=cifar10_dir, subset=(505, 100), seed=3)
    assert np.bincount(a.y_train, minlength=10).tolist() == [50] * 10  # floor per class
    assert np.bincount(a.y_test, minlength=10).tolist() == [10] * 10
    label_of = {x.tobytes(): y for x, y in zip(full.x_train, full.y_train)}
    assert all(label_of[x.tobytes()] == y for x, y in zip(a.x_train, a.y_train))
    b = load_cifar10(path=cifar10_dir, subset=(505, 100), seed=3)
    c = load_cifar10(path=cifar10_dir, subset=(505, 100), seed=4)
    np.testing.assert_array_equal(a.x_train, b.x_train)
    np.testing.assert_array_equal(a.y_test, b.y_test)
    assert not np.array_equal(a.x_train, c.x_train)
    assert len(np.unique(a.y_train[:20])) > 3  # shuffled, not sorted by class


def test_subset_int_scales_test_and_none_keeps_a_split(cifar10_dir):
    full = load_cifar10(path=cifar10_dir)
    got = load_cifar10(path=cifar10_dir, subset=1000)
    assert len(got.y_train) == 1000
    assert len(got.y_test) == 10 * round(100 * len(full.y_test) / len(full.y_train))
    got = load_cifar10(path=cifar10_dir, subset=(None, 100))
    np.testing.assert_array_equal(got.x_train, full.x_train)
    assert len(got.y_test) == 100
    with pytest.raises(ValueError, match=r"subset: n_train .* at most"):
        load_cifar10(path=cifar10_dir, subset=len(full.y_train) + 10)


# --- how it fails ----------------------------------------------------------------

def test_offline_without_a_copy_is_one_fast_clear_error(isolated, monkeypatch):
    monkeypatch.setattr(data, "_reachable", lambda *a, **k: False)
    start = time.perf_counter()
    with pytest.raises(Cifar10NotFoundError) as err:
        load_cifar10()
    assert time.perf_counter() - start < 1.0
    assert isinstance(err.value, FileNotFoundError) and isinstance(err.value, RuntimeError)
    message = str(err.value)
    for part in ["offline", "www.cs.toronto.edu:443", "CONVVIZ_CIFAR10", "path=",
                 str(isolated), "cifar-10-batches-py-target", data.URL]:
        assert part in message
    assert err.value.__context__ is None  # no network traceback hanging off it


def test_download_false_never_checks_the_network(isolated):
    with pytest.raises(Cifar10NotFoundError, match="download=False"):
        load_cifar10(download=False)


def test_reachable_is_bounded_by_its_timeout(monkeypatch):
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]
    assert data._reachable("127.0.0.1", port, timeout=2)
    server.close()
    assert not data._reachable("127.0.0.1", port, timeout=2)
    def hang(*args, **kwargs):  # a DNS lookup or SYN that never answers
        time.sleep(5)
        raise OSError("timed out")

    monkeypatch.setattr(socket, "create_connection", hang)
    start = time.perf_counter()
    assert not data._reachable("www.cs.toronto.edu", 443, timeout=0.3)
    assert time.perf_counter() - start < 1.0


def _fake_keras(get_file):
    return types.SimpleNamespace(utils=types.SimpleNamespace(get_file=get_file))


def test_download_failure_is_wrapped(isolated, monkeypatch):
    def get_file(**kwargs):
        raise Exception("URL fetch failure on https://www.cs.toronto.edu/: None -- timed out")

    monkeypatch.setattr(data, "_reachable", lambda *a, **k: True)
    monkeypatch.setitem(sys.modules, "keras", _fake_keras(get_file))
    with pytest.raises(Cifar10NotFoundError, match=r"(?s)downloading .*cifar-10-python\.tar\.gz "
                                                   r"failed: Exception: URL fetch failure.*CONVVIZ") as err:
        load_cifar10()
    assert err.value.__cause__ is None and err.value.__suppress_context__


def test_download_goes_through_keras_then_the_cache_is_used(tmp_path, isolated, monkeypatch):
    tarball = make_tar(write_batches(tmp_path / "src"), tmp_path / "official.tar.gz")
    calls = []

    def get_file(fname, origin, file_hash, cache_dir, cache_subdir):
        calls.append((fname, origin, file_hash))
        target = os.path.join(cache_dir, cache_subdir, fname)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.copy(tarball, target)
        return target

    monkeypatch.setattr(data, "_reachable", lambda *a, **k: True)
    monkeypatch.setitem(sys.modules, "keras", _fake_keras(get_file))
    got = load_cifar10()
    assert calls == [(data.ARCHIVE, "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",
                      data.SHA256)]
    assert got.source == "CIFAR-10 from official download (cifar-10-python.tar.gz)"
    assert got.path == isolated / data.DIRNAME
    monkeypatch.setattr(data, "_reachable", _never_online)
    assert load_cifar10().source == "CIFAR-10 from Keras cache (cifar-10-batches-py)"


@pytest.mark.parametrize("damage", ["truncate", "garbage", "empty"])
def test_damaged_batch_file_is_named(tmp_path, damage):
    folder = write_batches(tmp_path)
    victim = folder / "data_batch_3"
    raw = victim.read_bytes()
    victim.write_bytes({"truncate": raw[: len(raw) // 2], "garbage": b"\x80\x04not a pickle" * 9,
                        "empty": b""}[damage])
    with pytest.raises(Cifar10Error, match=str(victim)):
        load_cifar10(path=folder)


def test_batch_with_wrong_contents_is_named(tmp_path):
    folder = write_batches(tmp_path)
    _dump({b"data": np.zeros((10, 3072), np.uint8), b"labels": [10] * 10}, folder / "test_batch")
    with pytest.raises(Cifar10Error, match=f"{folder / 'test_batch'}: expected uint8 data"):
        load_cifar10(path=folder)


class _Exploit:
    def __reduce__(self):
        return (os.mkdir, (self.target,))


def test_pickle_cannot_run_code(tmp_path):
    folder = write_batches(tmp_path / "c")
    exploit = _Exploit()
    exploit.target = str(tmp_path / "pwned")
    (folder / "batches.meta").write_bytes(pickle.dumps({b"label_names": exploit}))
    with pytest.raises(Cifar10Error, match="refusing to load posix.mkdir|refusing to load os.mkdir"):
        load_cifar10(path=folder)
    assert not (tmp_path / "pwned").exists()


@pytest.mark.parametrize("damage", ["truncate", "flip", "not_a_tar"])
def test_damaged_archive_is_named_and_leaves_nothing(tmp_path, damage):
    (tmp_path / "dl").mkdir()
    archive = make_tar(write_batches(tmp_path / "src"), tmp_path / "dl" / data.ARCHIVE)
    raw = bytearray(archive.read_bytes())
    if damage == "truncate":
        raw = raw[: len(raw) * 2 // 3]
    elif damage == "flip":
        raw[len(raw) // 2] ^= 0xFF
    else:
        raw = bytearray(b"<html>not found</html>")
    archive.write_bytes(bytes(raw))
    with pytest.raises(Cifar10Error, match=str(archive)):
        load_cifar10(path=archive)
    assert [p.name for p in archive.parent.iterdir()] == [data.ARCHIVE]


def _member(name, kind=tarfile.REGTYPE, payload=b"x", link=""):
    info = tarfile.TarInfo(name)
    info.type, info.linkname, info.size = kind, link, len(payload) if kind == tarfile.REGTYPE else 0
    return info, payload if kind == tarfile.REGTYPE else None


@pytest.mark.parametrize("member", [
    _member("../escaped"),
    _member("cifar-10-batches-py/../../escaped"),
    _member("/tmp/convviz-escaped"),
    _member("cifar-10-batches-py/readme.html", tarfile.SYMTYPE, link="/etc/passwd"),
    _member("cifar-10-batches-py/x", tarfile.LNKTYPE, link="../../escaped"),
], ids=["dotdot", "nested-dotdot", "absolute", "symlink", "hardlink"])
def test_unsafe_archive_member_is_refused(tmp_path, member):
    (tmp_path / "dl").mkdir()
    archive = make_tar(write_batches(tmp_path / "src"), tmp_path / "dl" / data.ARCHIVE, [member])
    with pytest.raises(Cifar10Error, match=f"{archive}: refusing unsafe archive member"):
        load_cifar10(path=archive)
    assert [p.name for p in (tmp_path / "dl").iterdir()] == [data.ARCHIVE]
    assert not (tmp_path / "escaped").exists() and not os.path.exists("/tmp/convviz-escaped")


def test_images_are_read_only_maps_of_one_shared_file(cifar10_dir, tmp_path, monkeypatch):
    import tempfile

    from convviz.data import _read_batches, mapped_file

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    a, b = load_cifar10(path=cifar10_dir), load_cifar10(path=cifar10_dir)
    file = mapped_file(a.x_train)
    assert file is not None and file.is_relative_to(tmp_path)
    assert mapped_file(b.x_train) == file  # the second load maps the first one's file
    assert mapped_file(a.x_test) not in (None, file)
    assert not list(file.parent.glob(".*"))  # no temporary names left
    x, _, _ = _read_batches([cifar10_dir / f"data_batch_{i}" for i in range(1, 6)])
    np.testing.assert_array_equal(a.x_train, x)  # the same pixels as the batch files
    with pytest.raises(ValueError, match="read-only"):
        a.x_train[0, 0, 0, 0] = 1
    assert mapped_file(a.x_train[:10]) is None  # a part is not the whole file
    assert mapped_file(np.asarray(a.x_train)) == file  # a plain view is
    small = load_cifar10(path=cifar10_dir, subset=(100, 50))
    assert mapped_file(small.x_train) not in (None, file) and small.x_train.shape[0] == 100


def test_full_load_stays_below_250_mb(cifar10_dir):
    load_cifar10(path=cifar10_dir)  # warm imports and the page cache
    tracemalloc.start()
    try:
        got = load_cifar10(path=cifar10_dir)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    n = len(got.y_train) + len(got.y_test)
    projected = peak if n >= 60000 else peak / n * 60000
    print(f"\nload_cifar10 peak {peak / 1e6:.1f} MB for {n} images "
          f"({peak / n:.0f} B/image; 60000 images -> {projected / 1e6:.1f} MB)")
    assert projected < 250e6
    assert got.x_train.nbytes + got.x_test.nbytes > 0.7 * peak  # no hidden float copies


@pytest.mark.parametrize("kwargs, name", [
    ({"subset": 0}, "subset"), ({"subset": 9}, "subset"), ({"subset": -100}, "subset"),
    ({"subset": "1000"}, "subset"), ({"subset": True}, "subset"), ({"subset": (1000,)}, "subset"),
    ({"subset": (1000, 5)}, "subset"), ({"subset": (1000.0, 100)}, "subset"),
    ({"seed": -1}, "seed"), ({"seed": 1.5}, "seed"), ({"seed": "0"}, "seed"), ({"seed": True}, "seed"),
    ({"download": "yes"}, "download"), ({"download": None}, "download"),
    ({"path": 3}, "path"), ({"path": ""}, "path"),
])
def test_bad_arguments_name_themselves(isolated, kwargs, name):
    with pytest.raises(ValueError, match=rf"^{name}\b"):
        load_cifar10(**kwargs)


def test_import_does_not_load_tensorflow():
    code = ("import sys, convviz.data; "
            "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras')); "
            "assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
