"""CIFAR-10 as uint8 arrays: a local copy first, the official download last.

    data = load_cifar10(subset=(1000, 500))
    print(data)          # sizes and where the data came from, never a machine path
    (x_train, y_train), (x_test, y_test), class_names = data   # like keras' load_data

Images are uint8 (N, 32, 32, 3); labels are uint8 (N,) in 0..9. Scaling to
floats happens inside the models, so a full load stays below 250 MB. The images come back
as read-only memory maps of ``.npy`` files under the temporary folder (written once per
content, removed when the process exits): a training worker maps the same pages instead of
holding a copy, and images a notebook never looks at take no memory (``file_backed``).

Where it looks, in order:
1. the ``path=`` argument;
2. the ``CONVVIZ_CIFAR10`` environment variable;
3. the Keras cache (``$KERAS_HOME/datasets``, else ``~/.keras/datasets``), read
   without going online;
4. the official download through ``keras.utils.get_file`` (the only place that
   imports Keras), after checking the site answers within 3 seconds.

A path (argument or variable) may be the ``cifar-10-batches-py`` folder, a folder
holding it, or the official ``cifar-10-python.tar.gz`` (or a folder holding
that), which is unpacked once next to itself. Batch files are unpickled with an
unpickler that accepts numpy arrays and nothing else.
"""
from __future__ import annotations

import atexit
import dataclasses
import hashlib
import os
import pickle
import shutil
import socket
import sys
import tarfile
import tempfile
import threading
import zlib
from pathlib import Path, PurePosixPath

import numpy as np

__all__ = ["CLASS_NAMES", "Cifar10", "Cifar10Error", "Cifar10NotFoundError", "load_cifar10"]

CLASS_NAMES = ("airplane", "automobile", "bird", "cat", "deer",
               "dog", "frog", "horse", "ship", "truck")
ENV_VAR = "CONVVIZ_CIFAR10"
URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
SHA256 = "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce"
HOST, PORT, TIMEOUT_S = "www.cs.toronto.edu", 443, 3.0
DIRNAME, ARCHIVE = "cifar-10-batches-py", "cifar-10-python.tar.gz"
TRAIN_FILES = tuple(f"data_batch_{i}" for i in range(1, 6))
FILES = ("batches.meta", *TRAIN_FILES, "test_batch")
# Names under <keras home>/datasets: ours and tf.keras 2 (cifar-10-batches-py, plus the
# tar.gz), Keras 3 (cifar-10-batches-py-target/cifar-10-batches-py and its _archive).
CACHE_NAMES = (DIRNAME, "cifar-10-batches-py-target", ARCHIVE,
               "cifar-10-batches-py-target_archive", "cifar-10-batches-py.tar.gz")
FORMS = (f"a {DIRNAME} folder ({', '.join(FILES)}), a folder holding one, "
         f"or the official {ARCHIVE}")


class Cifar10Error(RuntimeError):
    """A CIFAR-10 copy is unreadable: truncated, corrupted or unsafe."""


class Cifar10NotFoundError(Cifar10Error, FileNotFoundError):
    """No CIFAR-10 copy where we looked, and none could be downloaded."""


@dataclasses.dataclass(frozen=True, eq=False)
class Cifar10:
    """The official split, or a class-balanced subset of it.

    Unpacks as ``(x_train, y_train), (x_test, y_test), class_names``.
    ``source`` says where the data came from without a machine path (safe to print
    in a committed notebook); ``path`` is the folder read, which is not.
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    class_names: tuple[str, ...]
    source: str
    path: Path

    def __iter__(self):
        return iter(((self.x_train, self.y_train), (self.x_test, self.y_test), self.class_names))

    def __repr__(self):
        return (f"Cifar10(train={len(self.y_train)}, test={len(self.y_test)}, "
                f"classes={len(self.class_names)}, source={self.source!r})")


def load_cifar10(path=None, subset=None, seed=0, download=True) -> Cifar10:
    """Load CIFAR-10 (see the module docstring for where it looks).

    subset: None for everything; an int ``n`` for about ``n`` training images with
        the test set scaled in proportion (official split: ``n // 5``); or a pair
        ``(n_train, n_test)``, either of which may be None for the whole split.
        Each class gets ``n // 10`` images (the floor; at least one test image per
        class), drawn at random under ``seed`` and returned shuffled.
    seed: int >= 0, only used with ``subset``.
    download: False never goes online.

    Raises Cifar10NotFoundError (also a FileNotFoundError) when there is no copy,
    Cifar10Error for an unreadable one, ValueError for bad arguments.
    """
    sizes = _check_subset(subset)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be an int >= 0; got {seed!r}")
    if not isinstance(download, bool):
        raise ValueError(f"download must be True or False; got {download!r}")
    if path is not None and (not isinstance(path, (str, os.PathLike)) or not os.fspath(path)):
        raise ValueError(f"path must be None or a non-empty str or os.PathLike; got {path!r}")

    folder, where = _locate(path, download)
    names = _read_meta(folder / "batches.meta")
    x_train, y_train, _ = _read_batches([folder / f for f in TRAIN_FILES])
    x_test, y_test, jpeg = _read_batches([folder / "test_batch"])
    if sizes is not None:
        n_train, n_test = sizes
        if n_test == "scaled":
            n_test = 10 * max(1, round(n_train // 10 * len(y_test) / max(len(y_train), 1)))
        rng = np.random.default_rng(seed)
        if n_train is not None:
            keep = _balanced(y_train, n_train // 10, rng, "n_train", where)
            x_train, y_train = x_train[keep], y_train[keep]
        if n_test is not None:
            keep = _balanced(y_test, n_test // 10, rng, "n_test", where)
            x_test, y_test = x_test[keep], y_test[keep]
    name = "CIFAR-10 (JPEG copy)" if jpeg else "CIFAR-10"
    x_train, x_test = file_backed({"x_train": x_train, "x_test": x_test}, prefix="cifar10")
    return Cifar10(x_train, y_train, x_test, y_test, names, f"{name} from {where}", folder)


# --------------------------------------------------------------------------- shared image files

_created: list[Path] = []


def shared_folder() -> Path:
    """``<temp>/convviz-data-<uid>``: where image arrays are kept as files for sharing."""
    uid = os.getuid() if hasattr(os, "getuid") else 0
    return Path(tempfile.gettempdir()) / f"convviz-data-{uid}"


def content_folder(key: bytes, prefix: str) -> Path:
    """A folder under :func:`shared_folder` named by a digest of ``key``; it and what this
    process writes in it are removed when the process exits."""
    folder = shared_folder() / f"{prefix}-{hashlib.blake2b(key, digest_size=12).hexdigest()}"
    if not folder.is_dir():
        folder.mkdir(parents=True, exist_ok=True)
        _created.append(folder)
    return folder


def save_once(folder: Path, name: str, array: np.ndarray) -> Path:
    """``<folder>/<name>.npy`` holding ``array``; written (temporary name, then renamed) only
    when missing, since a folder's name says its content."""
    path = folder / f"{name}.npy"
    if not path.exists():
        tmp = folder / f".{name}.{os.getpid()}.tmp.npy"
        try:
            np.save(tmp, array)
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
    return path


def file_backed(arrays: dict, prefix: str) -> tuple:
    """The arrays as read-only memory maps of ``.npy`` files kept under :func:`shared_folder`.

    Why: a training worker (:mod:`convviz.isolation`) maps the same files instead of receiving
    a copy, and pages the notebook never reads are not resident in it at all; clean file pages
    are also what the system reclaims first under a memory limit. The folder is named by a
    digest of the content, so loading the same data again maps the existing files. Where the
    temporary folder cannot be written, the arrays are returned as they are.
    """
    digest = hashlib.blake2b(digest_size=16)
    for name, a in arrays.items():
        digest.update(f"{name}{a.dtype}{a.shape}".encode())
        digest.update(np.ascontiguousarray(a).data)
    try:
        folder = content_folder(digest.digest(), prefix)
        return tuple(np.load(save_once(folder, name, a), mmap_mode="r") for name, a in arrays.items())
    except OSError:
        return tuple(arrays.values())


def mapped_file(array) -> Path | None:
    """The ``.npy`` file ``array`` is a read-only map of, all of it (as :func:`file_backed`
    returns it, or a plain view of that); ``None`` for anything else."""
    base = array
    while isinstance(getattr(base, "base", None), np.ndarray):  # up to the map itself
        base = base.base  # (a slice of a memmap is a memmap too, of part of the file)
    if not isinstance(base, np.memmap) or not base.filename or base.mode != "r":
        return None
    whole = (array.shape == base.shape and array.dtype == base.dtype
             and array.__array_interface__["data"][0] == base.__array_interface__["data"][0]
             and array.flags.c_contiguous)
    path = Path(base.filename)
    return path if whole and path.suffix == ".npy" and path.is_file() else None


@atexit.register
def _remove_created():
    for folder in _created:
        shutil.rmtree(folder, ignore_errors=True)


def _check_subset(subset):
    """None, or (n_train, n_test) where each is None, an int >= 10 or 'scaled'."""
    def is_int(v):
        return isinstance(v, (int, np.integer)) and not isinstance(v, bool)

    if subset is None:
        return None
    if is_int(subset):
        sizes = (int(subset), "scaled")
    elif (isinstance(subset, (tuple, list)) and len(subset) == 2
          and all(v is None or is_int(v) for v in subset)):
        sizes = tuple(None if v is None else int(v) for v in subset)
    else:
        sizes = ()
    if not sizes or any(isinstance(v, int) and v < 10 for v in sizes):
        raise ValueError(
            "subset must be None, an int >= 10 (training images; the test set is scaled "
            f"in proportion) or a pair (n_train, n_test) of ints >= 10 or None; got {subset!r}")
    return None if sizes == (None, None) else sizes


def _balanced(y, per_class, rng, name, where):
    counts = np.bincount(y, minlength=10)
    if per_class > counts.min():
        raise ValueError(
            f"subset: {name} asks for {per_class} images per class, but the copy from "
            f"{where} has at most {counts.min()} (so {name} <= {10 * counts.min()})")
    keep = np.concatenate([rng.choice(np.flatnonzero(y == c), per_class, replace=False)
                           for c in range(10)])
    rng.shuffle(keep)
    return keep


# --- finding a copy -------------------------------------------------------------

def _locate(path, download):
    """The cifar-10-batches-py folder to read, and a label for it without a path."""
    if path is not None:
        return _resolve(Path(path), "path= argument")
    env = os.environ.get(ENV_VAR, "").strip()
    if env:
        return _resolve(Path(env), ENV_VAR)
    for datasets in _keras_datasets_dirs():
        for name in CACHE_NAMES:
            if (datasets / name).exists():
                try:
                    return _resolve(datasets / name, "Keras cache")
                except Cifar10NotFoundError:
                    pass  # an incomplete folder: keep looking
    if not download:
        raise Cifar10NotFoundError(_how_to("download=False, so nothing was downloaded"))
    if not _reachable():
        raise Cifar10NotFoundError(_how_to(
            f"offline: {HOST}:{PORT} did not answer within {TIMEOUT_S:g} s"))
    try:
        import keras  # the only place convviz.data imports Keras

        datasets = _keras_datasets_dirs()[0]
        archive = keras.utils.get_file(fname=ARCHIVE, origin=URL, file_hash=SHA256,
                                       cache_dir=str(datasets.parent),
                                       cache_subdir=datasets.name)
    except Exception as err:  # network, disk, hash: one readable error, not a traceback
        raise Cifar10NotFoundError(_how_to(
            f"downloading {URL} failed: {type(err).__name__}: {err}")) from None
    return _resolve(Path(archive), "official download")


def _resolve(p, where):
    """Accept any of FORMS at ``p``; unpack an archive. Returns (folder, label)."""
    p = p.expanduser()
    if p.is_file():
        return _extract(p), f"{where} ({p.name})"
    if _complete(p):
        return p, f"{where} ({p.name})"
    if _complete(p / DIRNAME):
        return p / DIRNAME, f"{where} (folder holding {DIRNAME})"
    if (p / ARCHIVE).is_file():
        return _extract(p / ARCHIVE), f"{where} (folder holding {ARCHIVE})"
    if not p.exists():
        problem = "does not exist"
    else:
        problem = "lacks " + ", ".join(f for f in FILES if not (p / f).is_file())
    raise Cifar10NotFoundError(f"{where}: {p} {problem}; expected {FORMS}")


def _complete(folder):
    return folder.is_dir() and all((folder / f).is_file() for f in FILES)


def _keras_datasets_dirs():
    """Where keras.utils.get_file keeps datasets (it falls back to /tmp/.keras)."""
    home = os.environ.get("KERAS_HOME")
    if not home:
        home = Path.home() / ".keras" if os.access(Path.home(), os.W_OK) else "/tmp/.keras"
    home = Path(home).expanduser()
    dirs = [home / "datasets"]
    if not os.access(home, os.W_OK) and home != Path("/tmp/.keras"):
        dirs.append(Path("/tmp/.keras/datasets"))
    return dirs


def _reachable(host=HOST, port=PORT, timeout=TIMEOUT_S):
    """Whether host:port accepts a connection within ``timeout`` seconds.

    The probe runs in a thread so a slow DNS lookup cannot stretch the wait.
    """
    answered = []

    def probe():
        try:
            socket.create_connection((host, port), timeout=timeout).close()
            answered.append(True)
        except OSError:
            pass

    thread = threading.Thread(target=probe, daemon=True)
    thread.start()
    thread.join(timeout)
    return bool(answered)


def _how_to(reason):
    """The not-found message: why, where we looked, how to provide the data."""
    cache = _keras_datasets_dirs()
    looked = "".join(f"\n    Keras cache: {d}/{{{', '.join(CACHE_NAMES)}}}" for d in cache)
    tool = Path(__file__).resolve().parents[2] / "shared" / "tools" / "cifar10_batches.py"
    local = (f"\n  - or build one from the local copy: {sys.executable} {tool} DIR "
             f"(then {ENV_VAR}=DIR)" if tool.is_file() else "")
    return (f"CIFAR-10 not found ({reason}).\nLooked in:\n    path= argument: not given"
            f"\n    {ENV_VAR}: not set{looked}\n"
            f"To provide it, set the environment variable {ENV_VAR}, or pass "
            f"load_cifar10(path=...), to {FORMS}:\n"
            f"  - download {URL} where there is network (or put it in {cache[0]}/){local}")


# --- unpacking an archive -------------------------------------------------------

def _extract(archive):
    """Unpack ``archive`` to a sibling cifar-10-batches-py, all or nothing."""
    target = archive.parent / DIRNAME
    if _complete(target):
        return target
    if target.exists():
        raise Cifar10Error(f"{target} exists but is incomplete; delete it to unpack {archive}")
    try:
        tmp = Path(tempfile.mkdtemp(prefix=f".{DIRNAME}-", dir=archive.parent))
    except OSError as err:
        raise Cifar10Error(f"cannot unpack {archive} next to itself ({err}); unpack it "
                           f"elsewhere (tar xzf) and point path= or {ENV_VAR} there") from None
    try:
        _unpack(archive, tmp)
        tmp.chmod(0o755)  # mkdtemp made it private
        os.replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        if _complete(target):  # another process unpacked it first
            return target
        raise
    return target


def _unpack(archive, dest):
    """Copy the FILES out of ``archive`` into ``dest``; refuse unsafe members."""
    sizes = {}
    try:
        with tarfile.open(archive, "r:*") as tar:
            for member in tar:
                parts = PurePosixPath(member.name).parts
                if (member.name.startswith(("/", "\\")) or ".." in parts
                        or not (member.isfile() or member.isdir())):
                    raise Cifar10Error(
                        f"{archive}: refusing unsafe archive member {member.name!r} "
                        "(absolute path, '..', link or device)")
                parts = parts[1:] if parts[:1] == (".",) else parts
                if member.isfile() and parts[:1] == (DIRNAME,) and parts[1:] in [(f,) for f in FILES]:
                    with tar.extractfile(member) as src, open(dest / parts[1], "wb") as dst:
                        shutil.copyfileobj(src, dst, 1 << 20)
                    sizes[parts[1]] = member.size
            while tar.fileobj.read(1 << 20):  # read to the end: gzip checks its CRC there
                pass
    except (tarfile.TarError, OSError, EOFError, zlib.error) as err:
        detail = str(err).splitlines()[0].rstrip(":")  # tarfile's "not a tar" lists every method
        raise Cifar10Error(f"cannot unpack {archive}: {type(err).__name__}: {detail} "
                           "(truncated or corrupted? delete it and fetch it again)") from None
    missing = [f for f in FILES if f not in sizes]
    if missing:
        raise Cifar10Error(f"{archive} is not a CIFAR-10 python archive: it lacks "
                           + ", ".join(f"{DIRNAME}/{f}" for f in missing))
    short = [f for f, n in sizes.items() if (dest / f).stat().st_size != n]
    if short:
        raise Cifar10Error(f"{archive}: incomplete copy of {', '.join(short)}")


# --- reading batch files --------------------------------------------------------

_RECONSTRUCT = np.empty(0).__reduce__()[0]
_ALLOWED = {("numpy", "ndarray"): np.ndarray, ("numpy", "dtype"): np.dtype,
            ("numpy.core.multiarray", "_reconstruct"): _RECONSTRUCT,
            ("numpy._core.multiarray", "_reconstruct"): _RECONSTRUCT}


class _ArrayUnpickler(pickle.Unpickler):
    """Unpickles plain containers and numpy arrays; refuses any other global."""

    def find_class(self, module, name):
        if (module, name) not in _ALLOWED:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name}")
        return _ALLOWED[module, name]


def _unpickle(file):
    try:
        with open(file, "rb") as f:
            batch = _ArrayUnpickler(f, encoding="bytes").load()
    except FileNotFoundError:
        raise Cifar10Error(f"{file} is missing") from None
    except Exception as err:
        raise Cifar10Error(f"{file}: unreadable ({type(err).__name__}: {err}); truncated or "
                           "corrupted? delete its folder and unpack or fetch it again") from None
    if not isinstance(batch, dict):
        raise Cifar10Error(f"{file}: expected a pickled dict, got {type(batch).__name__}")
    return batch


def _read_meta(file):
    names = _unpickle(file).get(b"label_names")
    if not isinstance(names, list) or len(names) != 10:
        raise Cifar10Error(f"{file}: expected 10 label_names, got {names!r:.80}")
    return tuple(n.decode() if isinstance(n, bytes) else str(n) for n in names)


def _read_batches(files):
    """Read batch files into one preallocated (N, 32, 32, 3) uint8 array.

    Returns (x, y, jpeg) where jpeg says the file names are the JPEG copy's.
    """
    x = np.empty((0, 32, 32, 3), np.uint8)
    y = np.empty(0, np.uint8)
    n, jpeg = 0, False
    for file in files:
        batch = _unpickle(file)
        data, labels = batch.get(b"data"), batch.get(b"labels")
        k = len(labels) if isinstance(labels, list) else -1
        if (not isinstance(data, np.ndarray) or data.dtype != np.uint8
                or data.shape != (k, 3072) or k and not 0 <= min(labels) <= max(labels) <= 9):
            raise Cifar10Error(f"{file}: expected uint8 data of shape (N, 3072) and N labels "
                               "in 0..9; truncated or corrupted?")
        if n + k > len(x):  # the first batch sizes all (official batches are equal)
            x.resize((max(n + k, k * len(files)), 32, 32, 3), refcheck=False)
            y.resize(len(x), refcheck=False)
        x[n:n + k] = data.reshape(k, 3, 32, 32).transpose(0, 2, 3, 1)
        y[n:n + k] = labels
        n += k
        first = (batch.get(b"filenames") or [b""])[0]
        jpeg = jpeg or isinstance(first, bytes) and first.endswith(b".jpg")
        del batch, data
    x.resize((n, 32, 32, 3), refcheck=False)
    y.resize(n, refcheck=False)
    return x, y, jpeg
