"""The data set, the query and the Dask tasks of the famfs Dask example.

The data set is a table of sales rows stored as one .npy file per column, a
layout numpy maps without copying (np.load(..., mmap_mode="r")):

    key    int64    group key, 0 .. KEYS-1
    price  float64  a multiple of 1/1024 below 1024
    qty    int32    1 .. 100
    day    int32    0 .. 364

The query, over the whole table:

    SELECT key, COUNT(*), SUM(price), MIN(price), MAX(price), SUM(qty)
    WHERE  DAY_FROM <= day < DAY_TO AND qty >= QTY_MIN
    GROUP BY key

Prices are multiples of 2**-10 below 2**10, so every sum of up to 2**33 of
them is exact in float64, whatever the order of the additions: the answer
of a distributed run must equal the local computation bit for bit.

A task computes the partial aggregate of one row range: it maps the columns
from its own host's copy of the data set (the directory named by the
worker's environment variable FAMFS_DASK_ROOT joined with the data set's
name), computes, and returns only the small per-key result.

Workers import this module (PYTHONPATH names its directory); it needs
Debian's python3-numpy and python3-pandas, and Dask (python3-distributed)
only in the driver and the workers' runtime.
"""

import ctypes
import os
import time

import numpy as np
import pandas as pd

# The table's columns and their types.
COLUMNS = {"key": np.int64, "price": np.float64, "qty": np.int32, "day": np.int32}
ROW_BYTES = sum(np.dtype(t).itemsize for t in COLUMNS.values())  # 24

# The query's parameters.
KEYS = 1024
DAY_FROM, DAY_TO = 90, 181  # one quarter
QTY_MIN = 10

# The result's columns, in order.
RESULT = ["n", "sum_price", "min_price", "max_price", "sum_qty"]

ROOT_ENV = "FAMFS_DASK_ROOT"


def generate(outdir, rows, seed=11, chunk=1 << 22):
    """Write the data set (one .npy file per column) to outdir, chunk rows at
    a time so that memory stays small whatever the size."""
    os.makedirs(outdir, exist_ok=True)
    outs = {c: np.lib.format.open_memmap(os.path.join(outdir, c + ".npy"), mode="w+", dtype=t, shape=(rows,))
            for c, t in COLUMNS.items()}
    rng = np.random.default_rng(seed)
    for lo in range(0, rows, chunk):
        hi = min(rows, lo + chunk)
        n = hi - lo
        # A skewed key distribution: some keys are much more frequent.
        outs["key"][lo:hi] = (rng.pareto(1.5, n) * 40).astype(np.int64) % KEYS
        outs["price"][lo:hi] = rng.integers(0, 1 << 20, n) / 1024.0
        outs["qty"][lo:hi] = rng.integers(1, 101, n, dtype=np.int32)
        outs["day"][lo:hi] = rng.integers(0, 365, n, dtype=np.int32)
    for a in outs.values():
        a.flush()
    del outs


def map_npy(path):
    """Map a .npy file read-only, as np.load(path, mmap_mode="r") does, with
    one open and no buffered read: np.load opens the file three times and
    reads its header through a buffer of the file's st_blksize (2 MiB on a
    famfs mount), which costs more than the mapping itself for small tasks."""
    with open(path, "rb", buffering=0) as f:
        version = np.lib.format.read_magic(f)
        header = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}.get(version)
        if header is None:  # a format this helper does not parse: numpy's own way
            return np.load(path, mmap_mode="r")
        shape, fortran, dtype = header(f)
        return np.memmap(f, dtype=dtype, mode="r", offset=f.tell(), shape=shape, order="F" if fortran else "C")


def load(d, mmap_mode="r"):
    """The data set's columns in directory d: mapped read-only (by default),
    or read into memory (mmap_mode None)."""
    if mmap_mode == "r":
        return {c: map_npy(os.path.join(d, c + ".npy")) for c in COLUMNS}
    return {c: np.load(os.path.join(d, c + ".npy"), mmap_mode=mmap_mode) for c in COLUMNS}


def rows_of(d):
    """The number of rows of the data set in directory d (header only)."""
    with open(os.path.join(d, "key.npy"), "rb") as f:
        np.lib.format.read_magic(f)
        shape, _, _ = np.lib.format.read_array_header_1_0(f)
    return shape[0]


def aggregate(key, price, qty, day):
    """The query over arrays of rows: a DataFrame indexed by key (only the
    keys with rows), columns RESULT."""
    m = (day >= DAY_FROM) & (day < DAY_TO) & (qty >= QTY_MIN)
    k, p, q = key[m], price[m], qty[m]
    n = np.bincount(k, minlength=KEYS)
    sp = np.bincount(k, weights=p, minlength=KEYS)
    sq = np.bincount(k, weights=q, minlength=KEYS).astype(np.int64)
    mm = pd.Series(p).groupby(k).agg(["min", "max"]).reindex(range(KEYS))
    df = pd.DataFrame({"n": n, "sum_price": sp, "min_price": mm["min"].to_numpy(),
                       "max_price": mm["max"].to_numpy(), "sum_qty": sq})
    df.index.name = "key"
    return df[df.n > 0]


def combine(parts):
    """Combine partial aggregates (in the given order) into the answer."""
    if not parts:
        return pd.DataFrame(columns=RESULT)
    all_ = pd.concat(parts)
    g = all_.groupby(level=0, sort=True)
    out = pd.DataFrame({"n": g.n.sum(), "sum_price": g.sum_price.sum(), "min_price": g.min_price.min(),
                        "max_price": g.max_price.max(), "sum_qty": g.sum_qty.sum()})
    out.index.name = "key"
    return out[RESULT]


def reference(d):
    """The query computed directly on a local copy, in one process: the
    columns are read into memory (no mapping) and aggregated by pandas."""
    cols = load(d, mmap_mode=None)
    df = pd.DataFrame(cols)
    df = df[(df.day >= DAY_FROM) & (df.day < DAY_TO) & (df.qty >= QTY_MIN)]
    g = df.groupby("key", sort=True)
    out = pd.DataFrame({"n": g.size(), "sum_price": g.price.sum(), "min_price": g.price.min(),
                        "max_price": g.price.max(), "sum_qty": g.qty.sum().astype(np.int64)})
    out.index.name = "key"
    return out[RESULT]


def same(a, b):
    """Whether two answers are identical (exact: see the module's note)."""
    if list(a.index) != list(b.index):
        return False
    for c in RESULT:
        x, y = a[c].to_numpy(), b[c].to_numpy()
        if x.dtype.kind == "f" or y.dtype.kind == "f":
            if not np.array_equal(x.astype(np.float64), y.astype(np.float64)):
                return False
        elif not np.array_equal(x.astype(np.int64), y.astype(np.int64)):
            return False
    return True


# ---- worker side ---------------------------------------------------------

def host_dir(dataset):
    """The data set's directory on this worker's host."""
    root = os.environ.get(ROOT_ENV)
    if not root:
        raise RuntimeError(f"{ROOT_ENV} is not set in this worker's environment: it names the host's data root")
    return os.path.join(root, dataset)


_SYS_CACHESTAT = 451  # x86_64 and arm64 (generic table)


class _Range(ctypes.Structure):
    _fields_ = [("off", ctypes.c_uint64), ("len", ctypes.c_uint64)]


class _CacheStat(ctypes.Structure):
    _fields_ = [(k, ctypes.c_uint64) for k in ("cache", "dirty", "writeback", "evicted", "recently_evicted")]


_libc = ctypes.CDLL(None, use_errno=True)


def cached_bytes(fd):
    """Bytes of the page cache of the file open on fd (cachestat(2), Linux
    6.5+), or -1."""
    r, cs = _Range(0, 0), _CacheStat()
    if _libc.syscall(_SYS_CACHESTAT, fd, ctypes.byref(r), ctypes.byref(cs), 0) != 0:
        return -1
    return cs.cache * os.sysconf("SC_PAGE_SIZE")


def page_cache(d):
    """Bytes of page cache of each column file in directory d, or -1."""
    out = {}
    for c in COLUMNS:
        try:
            fd = os.open(os.path.join(d, c + ".npy"), os.O_RDONLY)
        except OSError:
            out[c] = -1
            continue
        try:
            out[c] = cached_bytes(fd)
        finally:
            os.close(fd)
    return out


def _status():
    """This process's RssAnon, RssFile and RssShmem in bytes."""
    out = {}
    with open("/proc/self/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("RssAnon", "RssFile", "RssShmem"):
                out[k] = int(v.split()[0]) * 1024
    return out


def partial(dataset, lo, hi):
    """The partial aggregate of rows [lo, hi): the columns are mapped from
    this host's copy (np.load with mmap_mode="r") and only the small result
    is returned, with the task's time and how much this process's resident
    memory (RssAnon, RssFile, RssShmem) grew while the columns were mapped."""
    before = _status()
    t0 = time.perf_counter()
    cols = load(host_dir(dataset))
    t1 = time.perf_counter()
    res = aggregate(**{c: a[lo:hi] for c, a in cols.items()})
    t2 = time.perf_counter()
    during = _status()
    del cols
    info = {"pid": os.getpid(), "lo": lo, "secs": t2 - t0, "open_secs": t1 - t0,
            **{k: during[k] - before[k] for k in during}}
    return res, info


# Columns held mapped by hold() until release(), per data set.
_held = {}


def hold(dataset):
    """Map every column of the data set and keep the mappings (so that the
    driver can read this process's /proc/<pid>/maps); returns the pid and
    each column's data address."""
    cols = load(host_dir(dataset))
    _held[dataset] = cols
    return os.getpid(), {c: int(a.ctypes.data) for c, a in cols.items()}


def release(dataset):
    """Drop what hold() mapped."""
    _held.pop(dataset, None)
    return os.getpid()


def whoami(dask_worker=None):
    """This worker's name, pid and data root (run on every worker by the
    driver; importing this module here loads numpy and pandas once)."""
    return {"name": getattr(dask_worker, "name", None), "pid": os.getpid(), "root": os.environ.get(ROOT_ENV)}


def page_cache_of(dataset):
    """The page cache of the data set's files as this worker's host sees them."""
    return page_cache(host_dir(dataset))
