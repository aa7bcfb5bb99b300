#!/usr/bin/python3
"""Run the famfs Dask example on one machine playing several hosts, three
ways in one run, and measure each: the job's wall time (warm, and its first
run) and the memory the data set costs the machine.

    /usr/bin/python3 bench.py [--size 8MiB] [--workers 3] [--variants copies,mount,preload] ...

Hosts: the master (this process: it makes the data set, copies it into famfs
and drives the jobs as the Dask client), one Dask scheduler, and, for each
variant, --workers worker hosts. A worker host is a separate `dask worker`
process with its own FAMFS_SYSTEM_UUID and its own data root
(FAMFS_DASK_ROOT): a local directory or its own famfs client mount.
Everything talks over 127.0.0.1 only.

Variants:

  copies   the baseline users have today: every worker host holds its own copy
           of the data set in a local tmpfs directory (under --copies-dir,
           default /dev/shm).
  mount    famfs: the master makes a file system on an emulated device (a file
           on a tmpfs mounted huge=always), mounts it and `famfs cp`s the data
           set in once; every worker host mounts the same device at its own
           mount point (a client mount, -o cache=keep by default) and its tasks
           map the files through the mount (FUSE page cache, no preload).
  preload  as mount (same device, same mount options, hosts of their own),
           with every worker started under `famfs run`: the preload library
           makes the tasks' mmaps of the files the device itself.

The variants' workers run side by side under one scheduler, and the job runs
in rounds, each round once per variant in a rotating order, so that the
load of a shared machine weighs on all three alike. The first round is the
first run (fresh processes, fresh mounts, fresh copies); the warm time is the
best of the --runs rounds after it. Each run's answer must equal the query
computed locally with pandas.

Memory: what the data set costs the machine, summed over hosts, is the
tmpfs (shared memory) holding it (each copy, or the device's pages for the
data) plus the page cache of the data files on every client mount
(cachestat(2) through each host's own mount). Per-process RSS (anon, file,
shmem, read from /proc/self/status inside each task while its columns are
mapped) shows what each worker maps; it is not added (the mapped pages are
the copies or the page cache themselves). /proc/meminfo deltas around staging
and release are printed as a cross-check; on a busy machine they are noisy.

Cleanup (processes, mounts, the huge-page tmpfs, copies, scratch directory)
happens on success, failure and SIGINT/SIGTERM; every wait is time-bounded.
Exit codes: 0 success, 1 failure (a wrong answer, a failed check, an error),
2 usage.
"""

import argparse
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import famfs_dask as fd  # noqa: E402

PY = "/usr/bin/python3"  # Debian's, with numpy, pandas and distributed
MIB = 1 << 20
DATASET = "sales"
MASTER_UUID = "dada0000-0000-4000-8000-00000000da5c"
VARIANTS = ("copies", "mount", "preload")
TITLES = {"copies": "(a) local copies", "mount": "(b) famfs mount", "preload": "(c) famfs + preload"}
SHORT = {"copies": "a", "mount": "b", "preload": "c"}


class Failure(Exception):
    """An error that ends the run with a message (exit 1)."""


def parse_size(s):
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(i?b?)\s*", s, re.I)
    if not m:
        raise argparse.ArgumentTypeError(f"{s!r} is not a size (examples: 8MiB, 1GiB, 500m)")
    mult = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}[m.group(2).lower()]
    return int(float(m.group(1)) * mult)


def human(n):
    if n is None:
        return "-"
    for unit, div in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if abs(n) >= div:
            return f"{n / div:.2f} {unit}"
    return f"{n} B"


def meminfo():
    out = {}
    with open("/proc/meminfo") as f:
        for line in f:
            k, _, v = line.partition(":")
            p = v.split()
            out[k] = int(p[0]) * (1024 if len(p) > 1 else 1)
    return out


def memdelta(m0, m1):
    """Shared memory and other page cache that appeared between two meminfo
    snapshots (Cached counts tmpfs pages too: they are taken out)."""
    return {"shmem": m1["Shmem"] - m0["Shmem"], "other_cache": (m1["Cached"] - m1["Shmem"]) - (m0["Cached"] - m0["Shmem"])}


def allocated(path):
    """Bytes a file (or every file of a tree) really holds."""
    if os.path.isdir(path):
        return sum(allocated(os.path.join(path, n)) for n in os.listdir(path))
    return os.stat(path).st_blocks * 512


def mounted_under(d):
    """Mount points at or under d (deepest first), from /proc/self/mountinfo."""
    d = os.path.realpath(d)
    pts = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            p = line.split()[4].replace("\\040", " ")
            if p == d or p.startswith(d + "/"):
                pts.append(p)
    return sorted(pts, key=len, reverse=True)


class Bench:
    def __init__(self, a):
        self.a = a
        self.procs = []  # (name, Popen) started by us
        self.mounts = []  # famfs mount points made by us
        self.hp = None  # the huge-page tmpfs mount point, if made
        self.copies = None  # the copies' directory, if made
        self.device = None  # the famfs device file, if made
        self.client = None
        self.scratch = a.scratch or tempfile.mkdtemp(prefix="famfs-dask-", dir="/tmp")
        os.makedirs(self.scratch, exist_ok=True)
        self.scratch = os.path.realpath(self.scratch)
        self.made_scratch = a.scratch is None
        self.logdir = os.path.join(self.scratch, "logs")
        os.makedirs(self.logdir, exist_ok=True)
        self.pidfile = os.path.join(self.scratch, "pids")
        self.source = os.path.join(self.scratch, "source")
        self.hosts = [f"host-{i + 1}" for i in range(a.workers)]
        self.roots = {}  # variant -> host -> data root
        self.workers = {}  # variant -> worker address -> whoami()
        self.wprocs = {}  # variant -> host -> Popen
        self.cache = {}  # variant -> host -> column -> page cache bytes

    def log(self, *msg):
        if not self.a.quiet:
            print(*msg, file=sys.stderr, flush=True)

    def uuid(self, variant, host):
        """A fixed system UUID per worker host (the same from run to run)."""
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"famfs-dask/{variant}/{host}"))

    # ---- commands and processes -------------------------------------------

    def famfs(self, uid, *args, timeout=None):
        """Run famfs as the host with system UUID uid; fail with its output."""
        env = dict(os.environ, FAMFS_SYSTEM_UUID=uid)
        env.pop("LD_PRELOAD", None)
        t = timeout or self.a.timeout
        try:
            r = subprocess.run([self.a.famfs, *args], env=env, capture_output=True, text=True, timeout=t)
        except subprocess.TimeoutExpired:
            raise Failure(f"famfs {' '.join(args)}: no answer in {t} s")
        if r.returncode != 0:
            raise Failure(f"famfs {' '.join(args)}: exit {r.returncode}: {r.stderr.strip() or r.stdout.strip()}")
        return r.stdout

    def start(self, name, argv, env):
        """Start a long-running process in its own session, output to a log;
        its pid goes to the pid file (for an outside cleanup)."""
        logf = open(os.path.join(self.logdir, name + ".log"), "w")
        p = subprocess.Popen(argv, env=env, stdout=logf, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                             start_new_session=True, cwd=self.scratch)
        logf.close()
        self.procs.append((name, p))
        with open(self.pidfile, "a") as f:
            f.write(f"{p.pid} {name}\n")
        return p

    def stop(self, name, p, grace=20):
        """SIGTERM the process's session, wait (bounded), then SIGKILL."""
        if p.poll() is None:
            try:
                os.killpg(p.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                p.wait(grace)
            except subprocess.TimeoutExpired:
                self.log(f"{name}: still running {grace} s after SIGTERM: killing it")
        try:
            os.killpg(p.pid, signal.SIGKILL)  # anything left in its session
        except (ProcessLookupError, PermissionError):
            pass
        try:
            p.wait(5)
        except subprocess.TimeoutExpired:
            pass
        self.procs = [(n, q) for n, q in self.procs if q is not p]

    def logtail(self, name, n=30):
        try:
            with open(os.path.join(self.logdir, name + ".log")) as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return ""

    # ---- the scheduler and the workers ------------------------------------

    def start_scheduler(self):
        from distributed import Client
        sf = os.path.join(self.scratch, "scheduler.json")
        env = dict(os.environ, PYTHONPATH=HERE)
        env.pop("LD_PRELOAD", None)
        p = self.start("scheduler", [PY, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1",
                                     "--port", "0", "--no-dashboard", "--scheduler-file", sf,
                                     "--idle-timeout", str(max(600, self.a.timeout * 4))], env)
        deadline = time.monotonic() + self.a.timeout
        while not os.path.exists(sf):
            if p.poll() is not None or time.monotonic() > deadline:
                raise Failure(f"the Dask scheduler did not start:\n{self.logtail('scheduler')}")
            time.sleep(0.05)
        self.client = Client(scheduler_file=sf, timeout=self.a.timeout)
        self.scheduler_file = sf

    def start_workers(self, variant):
        env0 = dict(os.environ, PYTHONPATH=HERE)
        env0.pop("LD_PRELOAD", None)
        self.wprocs[variant] = {}
        for h in self.hosts:
            name = f"{SHORT[variant]}-{h}"
            work = os.path.join(self.scratch, "hosts", name, "work")
            os.makedirs(work, exist_ok=True)
            argv = [PY, "-m", "distributed.cli.dask_worker", "--scheduler-file", self.scheduler_file,
                    "--name", name, "--nthreads", str(self.a.threads), "--no-nanny", "--memory-limit", "0",
                    "--no-dashboard", "--host", "127.0.0.1", "--local-directory", work,
                    "--death-timeout", str(self.a.timeout)]
            if variant == "preload":
                argv = [self.a.famfs, "run", "--"] + argv
            env = dict(env0, FAMFS_SYSTEM_UUID=self.uuid(variant, h), **{fd.ROOT_ENV: self.roots[variant][h]})
            self.wprocs[variant][h] = self.start(name, argv, env)

    def wait_workers(self):
        n = sum(len(p) for p in self.wprocs.values())
        try:
            self.client.wait_for_workers(n, timeout=self.a.timeout)
        except Exception as e:
            logs = "\n".join(f"--- {SHORT[v]}-{h}:\n{self.logtail(f'{SHORT[v]}-{h}')}"
                             for v in self.wprocs for h in self.hosts)
            raise Failure(f"the {n} workers did not join the scheduler: {e}\n{logs}")
        # Import the job's module on every worker now (numpy and pandas), so
        # that the first run measures the job, not Python's imports; learn
        # which worker is which host.
        info = self.client.run(fd.whoami)
        for v in self.wprocs:
            self.workers[v] = {addr: w for addr, w in info.items() if w["name"].startswith(SHORT[v] + "-")}
            for h in self.hosts:
                if not any(w["root"] == self.roots[v][h] for w in self.workers[v].values()):
                    raise Failure(f"{v}: no worker reports the data root {self.roots[v][h]} of {h}")

    def stop_workers(self, variant):
        for h, p in self.wprocs.pop(variant, {}).items():
            self.stop(f"{SHORT[variant]}-{h}", p)
        gone = set(self.workers.pop(variant, {}))
        deadline = time.monotonic() + self.a.timeout
        while gone & set(self.client.scheduler_info()["workers"]):
            if time.monotonic() > deadline:
                raise Failure(f"{variant}: the scheduler still lists workers after they were stopped")
            time.sleep(0.05)

    # ---- the job -----------------------------------------------------------

    def run_job(self, variant, rows):
        """Run the query once on the variant's workers; returns (seconds,
        answer, task infos)."""
        from distributed import wait
        p = self.a.partitions
        bounds = [(rows * i // p, rows * (i + 1) // p) for i in range(p)]
        t0 = time.perf_counter()
        futs = self.client.map(fd.partial, [DATASET] * p, [b[0] for b in bounds], [b[1] for b in bounds],
                               pure=False, workers=list(self.workers[variant]), allow_other_workers=False)
        _, notdone = wait(futs, timeout=self.a.timeout)
        if notdone:
            self.client.cancel(futs)
            raise Failure(f"{variant}: the job did not finish in {self.a.timeout} s")
        out = self.client.gather(futs)
        answer = fd.combine([r for r, _ in out])
        secs = time.perf_counter() - t0
        return secs, answer, [i for _, i in out]

    def check_maps(self, variant):
        """Map the columns in every worker of the variant (and keep them
        mapped), read each worker's /proc/<pid>/maps, and name the file
        behind each column's data. Under the preload it must be the device,
        never the file on the FUSE mount."""
        addrs = list(self.workers[variant])
        held = self.client.run(fd.hold, DATASET, workers=addrs)
        try:
            found = {}
            for addr, (pid, cols) in held.items():
                host = self.workers[variant][addr]["name"]
                with open(f"/proc/{pid}/maps") as f:
                    lines = f.read().splitlines()
                found[host] = {"pid": pid, "root": self.workers[variant][addr]["root"], "columns": {}}
                for c, a in cols.items():
                    line = ""
                    for ln in lines:
                        lo, hi = (int(x, 16) for x in ln.split()[0].split("-"))
                        if lo <= a < hi:
                            line = ln
                            break
                    f6 = line.split(None, 5)
                    found[host]["columns"][c] = {"line": line, "path": f6[5] if len(f6) > 5 else ""}
        finally:
            self.client.run(fd.release, DATASET, workers=addrs)
        ok = True
        for host, v in found.items():
            for c, m in v["columns"].items():
                m["want"] = self.device if variant == "preload" else os.path.join(v["root"], DATASET, c + ".npy")
                if m["path"] != m["want"]:
                    ok = False
                    self.log(f"{variant}: {host} (pid {v['pid']}) maps column {c} from {m['path']!r}, want {m['want']!r}")
        return {"ok": ok, "workers": found}

    # ---- staging and release (steps 2 and 4 of the workflow) --------------

    def devsize(self):
        # the data, each file rounded up to 2 MiB, the superblock and log
        # (10 MiB), and some room; a multiple of 2 MiB, and at least the 4 GiB
        # mkfs asks for (a sparse file: only what is written costs memory).
        n = allocated(self.source) + len(fd.COLUMNS) * 2 * MIB + 10 * MIB + 64 * MIB
        return max(4 << 30, (n + 2 * MIB - 1) // (2 * MIB) * (2 * MIB))

    def device_dir(self):
        if not self.a.huge:
            return self.a.copies_dir
        hp = os.path.join(self.scratch, "hp")
        os.makedirs(hp, exist_ok=True)
        size = self.devsize() + 64 * MIB
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", f"huge=always,size={size},mode=0755", "famfs-dask-hp", hp],
                           capture_output=True, text=True, timeout=30)
        if r.returncode != 0:
            raise Failure(f"mount -t tmpfs -o huge=always {hp}: {r.stderr.strip()}")
        self.hp = hp
        return hp

    def stage_copies(self):
        """Every worker host gets its own copy of the data set."""
        self.copies = os.path.join(self.a.copies_dir, os.path.basename(self.scratch) + "-copies")
        m0 = meminfo()
        t0 = time.perf_counter()
        roots = {}
        for h in self.hosts:
            roots[h] = os.path.join(self.copies, h)
            os.makedirs(roots[h])
            shutil.copytree(os.path.join(self.source, DATASET), os.path.join(roots[h], DATASET))
        secs = time.perf_counter() - t0
        self.roots["copies"] = roots
        return {"stage_secs": secs, "stored_bytes": allocated(self.copies), "stage_meminfo": memdelta(m0, meminfo()),
                "copies": self.copies}

    def stage_famfs(self, variants):
        """mkfs, the master's mount, every famfs variant's client mounts, and
        one famfs cp of the data set."""
        self.device = os.path.join(self.device_dir(), f"{os.path.basename(self.scratch)}-dax.img")
        self.famfs(MASTER_UUID, "mkfs", "--size", str(self.devsize()), self.device)
        master = os.path.join(self.scratch, "master", "mnt")
        os.makedirs(master, exist_ok=True)
        self.mount(MASTER_UUID, self.device, master)
        for v in variants:
            self.roots[v] = {}
            for h in self.hosts:
                mpt = os.path.join(self.scratch, "hosts", f"{SHORT[v]}-{h}", "mnt")
                os.makedirs(mpt, exist_ok=True)
                self.mount(self.uuid(v, h), self.device, mpt, "-o", "cache=" + self.a.mount_cache)
                self.roots[v][h] = mpt
        before = allocated(self.device)
        m0 = meminfo()
        t0 = time.perf_counter()
        self.famfs(MASTER_UUID, "cp", "-r", os.path.join(self.source, DATASET), master + "/")
        secs = time.perf_counter() - t0
        st = {"stage_secs": secs, "stored_bytes": allocated(self.device) - before,
              "stage_meminfo": memdelta(m0, meminfo()), "device": self.device, "master": master}
        # Every client sees the files (its daemon replays the log by itself).
        deadline = time.monotonic() + self.a.timeout
        for v in variants:
            for h, r in self.roots[v].items():
                while not os.path.exists(os.path.join(r, DATASET, "day.npy")):
                    if time.monotonic() > deadline:
                        raise Failure(f"{SHORT[v]}-{h}: the data set did not appear in {r} in {self.a.timeout} s")
                    time.sleep(0.01)
        return st

    def mount(self, uid, dev, mpt, *opts):
        self.famfs(uid, "mount", *opts, dev, mpt)
        self.mounts.append(mpt)

    def umount(self, mpt):
        try:
            self.famfs(MASTER_UUID, "umount", mpt, timeout=60)
        except Failure as e:
            self.log(f"{e}; detaching {mpt}")
            subprocess.run(["umount", "-l", mpt], capture_output=True, timeout=30)
        if mpt in self.mounts:
            self.mounts.remove(mpt)
        # The daemon keeps its log after unmount, beside its control socket
        # (/run/famfs/<first 12 bytes of sha256(mount point), hex>.log): it
        # joins this run's logs.
        dlog = os.path.join("/run/famfs", hashlib.sha256(os.path.normpath(mpt).encode()).hexdigest()[:24] + ".log")
        try:
            shutil.move(dlog, os.path.join(self.logdir, "daemon-" + os.path.relpath(mpt, self.scratch).replace("/", "-") + ".log"))
        except OSError:
            pass

    def release_copies(self):
        m0 = meminfo()
        shutil.rmtree(self.copies, ignore_errors=True)
        self.copies = None
        return memdelta(m0, meminfo())

    def release_famfs(self):
        """Every host unmounts, and the device's memory is given back (here:
        the device file is removed; on real hardware the dax device is re-made
        with mkfs.famfs -f or handed back with daxctl)."""
        m0 = meminfo()
        for mpt in list(reversed(self.mounts)):
            self.umount(mpt)
        os.remove(self.device)
        self.device = None
        return memdelta(m0, meminfo())

    # ---- everything ---------------------------------------------------------

    def run(self):
        a = self.a
        rows = max(1, a.size // fd.ROW_BYTES)
        src = os.path.join(self.source, DATASET)
        self.log(f"data set: {rows} rows, {len(fd.COLUMNS)} columns ({human(rows * fd.ROW_BYTES)}) in {src}")
        t0 = time.perf_counter()
        fd.generate(src, rows)
        gen = time.perf_counter() - t0
        out = {"rows": rows, "data_bytes": rows * fd.ROW_BYTES, "data_allocated": allocated(src),
               "workers": a.workers, "threads": a.threads, "partitions": a.partitions, "runs": a.runs,
               "huge": a.huge, "mount_cache": a.mount_cache, "copies_dir": a.copies_dir, "generate_secs": gen,
               "scratch": self.scratch}
        ref = None
        if a.check:
            t0 = time.perf_counter()
            ref = fd.reference(src)
            out["reference_secs"] = time.perf_counter() - t0
            out["reference"] = ref.reset_index().to_dict(orient="list")
            self.log(f"local computation (one process, data read into memory): {out['reference_secs']:.3f} s, "
                     f"{len(ref)} keys")

        # Step 2: the data where the jobs read it.
        res = {v: {"variant": v, "title": TITLES[v]} for v in a.variants}
        if "copies" in a.variants:
            res["copies"].update(self.stage_copies())
        fam = [v for v in a.variants if v != "copies"]
        if fam:
            st = self.stage_famfs(fam)
            for v in fam:
                res[v].update(st)
        for v in a.variants:
            res[v]["roots"] = self.roots[v]
            self.log(f"{TITLES[v]}: staged in {res[v]['stage_secs']:.2f} s, {human(res[v]['stored_bytes'])} stored")

        # Step 3: the job, in rounds.
        self.start_scheduler()
        for v in a.variants:
            self.start_workers(v)
        self.wait_workers()
        infos = {v: [] for v in a.variants}
        for v in a.variants:
            res[v]["runs_secs"], res[v]["task_secs"], res[v]["open_secs"] = [], [], []
        for r in range(1 + a.runs):
            k = r % len(a.variants)
            for v in a.variants[k:] + a.variants[:k]:
                secs, answer, info = self.run_job(v, rows)
                if ref is not None and not fd.same(answer, ref):
                    raise Failure(f"{v}: run {r + 1}: the answer differs from the local computation")
                res[v]["runs_secs"].append(secs)
                res[v]["task_secs"].append(sum(i["secs"] for i in info))
                res[v]["open_secs"].append(sum(i["open_secs"] for i in info))
                infos[v].extend(info)
                if v != "copies":
                    self.page_cache(v)
                res[v]["answer"] = answer.reset_index().to_dict(orient="list")
                self.log(f"round {r + 1} {TITLES[v]}: {secs:.3f} s (in tasks {res[v]['task_secs'][-1]:.3f} s, "
                         f"of which opening {res[v]['open_secs'][-1]:.3f} s)")
        for v in a.variants:
            x = res[v]
            x["first_secs"] = x["runs_secs"][0]
            x["warm_secs"] = min(x["runs_secs"][1:]) if a.runs else x["runs_secs"][0]
            if "copies" in a.variants:
                # Speed against the baseline: best against best, and the
                # median of the ratios of the runs of one round (neighbours
                # in time, so the machine's load weighs on both alike).
                b = res["copies"]["runs_secs"]
                x["speed"] = min(b[1:] or b) / x["warm_secs"]
                rs = sorted(b[i] / x["runs_secs"][i] for i in range(1 if a.runs else 0, len(b)))
                x["speed_median"] = (rs[(len(rs) - 1) // 2] + rs[len(rs) // 2]) / 2
            self.memory(v, x, infos[v])
            if a.check_maps:
                x["maps"] = self.check_maps(v)

        # Step 4: every host lets go; the memory is given back.
        for v in a.variants:
            self.stop_workers(v)
        if "copies" in a.variants:
            res["copies"]["release_meminfo"] = self.release_copies()
        if fam:
            rel = self.release_famfs()
            for v in fam:
                res[v]["release_meminfo"] = rel
        out["variants"] = [res[v] for v in a.variants]
        return out

    def page_cache(self, v):
        """The page cache of the data files as each host of variant v sees
        them, measured by each worker through its own mount after a run
        (cache=keep and open do not drop it at open; direct does, and this
        then reads 0); the largest seen is kept, per host and file."""
        got = self.client.run(fd.page_cache_of, DATASET, workers=list(self.workers[v]))
        seen = self.cache.setdefault(v, {})
        for addr, pc in got.items():
            h = seen.setdefault(self.workers[v][addr]["name"], {})
            for c, b in pc.items():
                h[c] = max(h.get(c, -1), b)

    def memory(self, v, x, infos):
        """The memory the data costs the machine in variant v (see the
        module's note)."""
        names = {addr: w["name"] for addr, w in self.workers[v].items()}
        pids = {w["pid"]: w["name"] for w in self.workers[v].values()}
        hosts = {n: {"tasks": 0, "RssAnon": 0, "RssFile": 0, "RssShmem": 0} for n in names.values()}
        for inf in infos:
            h = hosts[pids[inf["pid"]]]
            h["tasks"] += 1
            h.setdefault("row_ranges", set()).add(inf["lo"])
            for k in ("RssAnon", "RssFile", "RssShmem"):
                h[k] = max(h[k], inf[k])
        for h in hosts.values():  # how many distinct row ranges each host read
            h["row_ranges"] = len(h.get("row_ranges", ()))
        for n, pc in self.cache.get(v, {}).items():
            hosts[n]["page_cache"] = pc
        x["hosts"] = hosts
        # The copies' files are tmpfs: their page cache *is* the stored copy,
        # counted once as stored. Through a mount the page cache is memory on
        # top of the device.
        x["page_cache_bytes"] = 0 if v == "copies" else sum(max(0, b) for h in hosts.values()
                                                             for b in h.get("page_cache", {}).values())
        x["total_bytes"] = x["stored_bytes"] + x["page_cache_bytes"]
        x["rss"] = {k: sum(h[k] for h in hosts.values()) for k in ("RssAnon", "RssFile", "RssShmem")}

    def cleanup(self):
        if self.client is not None:
            try:
                self.client.close(timeout=10)
            except Exception:
                pass
        for name, p in list(reversed(self.procs)):
            self.stop(name, p, grace=10)
        for mpt in list(reversed(self.mounts)):
            self.umount(mpt)
        for mpt in mounted_under(self.scratch):  # anything else left (a famfs daemon died, the tmpfs)
            if mpt != self.hp:
                subprocess.run(["umount", "-l", mpt], capture_output=True, timeout=30)
        if self.device is not None and not self.hp:
            try:
                os.remove(self.device)
            except OSError:
                pass
        if self.hp is not None:
            r = subprocess.run(["umount", self.hp], capture_output=True, text=True, timeout=30)
            if r.returncode != 0:
                self.log(f"umount {self.hp}: {r.stderr.strip()}; detaching it")
                subprocess.run(["umount", "-l", self.hp], capture_output=True, timeout=30)
        if self.copies is not None:
            shutil.rmtree(self.copies, ignore_errors=True)
        if not self.a.keep:
            if self.made_scratch:
                shutil.rmtree(self.scratch, ignore_errors=True)
            else:
                for n in ("source", "hosts", "master", "hp", "logs", "pids", "scheduler.json"):
                    p = os.path.join(self.scratch, n)
                    if os.path.isdir(p) and not os.path.ismount(p):
                        shutil.rmtree(p, ignore_errors=True)
                    elif os.path.isfile(p):
                        os.remove(p)


def table(out):
    vs = out["variants"]
    base = next((v for v in vs if v["variant"] == "copies"), None)
    lines = [f"{out['rows']} rows ({human(out['data_bytes'])}), {out['workers']} worker hosts per variant x "
             f"{out['threads']} thread, {out['partitions']} tasks a job; warm = best of {out['runs']}; "
             f"famfs mounts cache={out['mount_cache']}",
             "",
             "| variant | staging | first run | warm run | speed vs (a): best, median of rounds | data stored (tmpfs) | "
             "page cache, all hosts | data memory, all hosts |",
             "|---|---|---|---|---|---|---|---|"]
    for v in vs:
        ratio = f"{v['speed']:.2f}x (median {v['speed_median']:.2f}x)" if base else "-"
        lines.append(f"| {v['title']} | {v['stage_secs']:.2f} s | {v['first_secs']:.3f} s | {v['warm_secs']:.3f} s | "
                     f"{ratio} | {human(v['stored_bytes'])} | {human(v['page_cache_bytes'])} | "
                     f"{human(v['total_bytes'])} = {v['total_bytes'] / out['data_allocated']:.2f} copies |")
    lines += ["",
              "| variant | worker RSS growth while a task runs, all hosts: anon / file / shmem | "
              "meminfo at staging: Shmem / other cache | at release |",
              "|---|---|---|---|"]
    for v in vs:
        r, s, rel = v["rss"], v["stage_meminfo"], v["release_meminfo"]
        lines.append(f"| {v['title']} | {human(r['RssAnon'])} / {human(r['RssFile'])} / {human(r['RssShmem'])} | "
                     f"{human(s['shmem'])} / {human(s['other_cache'])} | "
                     f"{human(rel['shmem'])} / {human(rel['other_cache'])} |")
    return "\n".join(lines)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog="See the module's text (and README.md) for what is measured and how.")
    p.add_argument("--size", type=parse_size, default=parse_size("8MiB"), help="data set size (default 8MiB; 1GiB for the large variant)")
    p.add_argument("--workers", type=int, default=3, help="worker hosts per variant (default 3)")
    p.add_argument("--threads", type=int, default=1, help="threads per worker (default 1)")
    p.add_argument("--partitions", type=int, default=0, help="tasks per job (default 4 per worker)")
    p.add_argument("--runs", type=int, default=3, help="warm runs after the first (default 3)")
    p.add_argument("--variants", default=",".join(VARIANTS), help="comma-separated: copies,mount,preload")
    p.add_argument("--famfs", default=os.path.join(HERE, "..", "..", "bin", "famfs"), help="the famfs binary (make builds bin/famfs and the preload library beside it)")
    p.add_argument("--scratch", help="scratch directory (default: a new one under /tmp, removed at the end)")
    p.add_argument("--copies-dir", default="/dev/shm", help="tmpfs for the baseline's per-host copies (default /dev/shm)")
    p.add_argument("--no-huge", dest="huge", action="store_false", help="put the device in --copies-dir instead of a tmpfs mounted huge=always")
    p.add_argument("--mount-cache", default="keep", choices=("direct", "open", "keep"), help="cache mode of the worker hosts' famfs mounts (default keep)")
    p.add_argument("--no-check", dest="check", action="store_false", help="skip the local computation and the comparison")
    p.add_argument("--check-maps", action="store_true", help="read each worker's /proc/<pid>/maps for the files behind the columns; fail unless the preload's are the device")
    p.add_argument("--timeout", type=int, default=120, help="bound on every wait, seconds (default 120)")
    p.add_argument("--json", help="write every figure to this file")
    p.add_argument("--keep", action="store_true", help="keep the scratch directory (logs)")
    p.add_argument("-q", "--quiet", action="store_true")
    a = p.parse_args()
    a.variants = [v.strip() for v in a.variants.split(",") if v.strip()]
    bad = [v for v in a.variants if v not in VARIANTS]
    if bad or not a.variants or len(set(a.variants)) != len(a.variants):
        p.error(f"--variants: each of {', '.join(VARIANTS)} at most once (got {','.join(a.variants)})")
    if a.workers < 1 or a.threads < 1 or a.runs < 0 or a.timeout < 1 or a.partitions < 0:
        p.error("--workers, --threads and --timeout must be at least 1, --runs and --partitions at least 0")
    a.partitions = a.partitions or 4 * a.workers
    a.famfs = os.path.realpath(a.famfs)
    if not os.access(a.famfs, os.X_OK):
        p.error(f"{a.famfs}: no famfs binary there (run make at the top of the repository, or give --famfs)")
    if os.geteuid() != 0 and any(v != "copies" for v in a.variants):
        p.error("the famfs variants mount FUSE file systems directly: run as root")

    b = Bench(a)

    def on_signal(sig, frame):
        raise KeyboardInterrupt(f"signal {sig}")
    signal.signal(signal.SIGTERM, on_signal)
    code = 0
    try:
        out = b.run()
        print(table(out))
        print()
        for v in out["variants"]:
            if "maps" not in v:
                continue
            paths = sorted({m["path"] for w in v["maps"]["workers"].values() for m in w["columns"].values()})
            print(f"{v['title']}: the workers map the data from {'' if v['maps']['ok'] else 'THE WRONG FILES: '}"
                  + (", ".join(paths) if len(paths) <= 2 else f"{len(paths)} files, e.g. {paths[0]}"))
            if not v["maps"]["ok"]:
                code = 1
        if a.check:
            print(f"answers: every run of every variant equals the local computation ({len(out['reference']['key'])} keys)")
        if a.json:
            with open(a.json, "w") as f:
                json.dump(out, f, indent=1)
    except Failure as e:
        print(f"bench.py: {e}", file=sys.stderr)
        code = 1
    except KeyboardInterrupt as e:
        print(f"bench.py: interrupted ({e}); cleaning up", file=sys.stderr)
        code = 1
    finally:
        b.cleanup()
    return code


if __name__ == "__main__":
    sys.exit(main())
