# SPDX-License-Identifier: MIT
"""benchlib - what the scripts in bench/ share.

Child processes: every program a benchmark starts goes through Children.spawn(), which puts it in
its own process group (so its whole tree can be signalled at once) and gives it
PR_SET_PDEATHSIG(SIGKILL) (so it dies even if the benchmark itself is killed with SIGKILL).
Children.cleanup() kills and reaps every group still alive; install_cleanup() runs it, and removes
the benchmark's temporary directory, on normal exit, on an exception, and on SIGINT, SIGTERM and
SIGHUP. Nothing a benchmark starts or writes outlives it.

Readiness is never a fixed sleep: a server is ready when the kernel shows its socket in LISTEN
state (the /proc/net/tcp table, what `ss -ltn` reads), polled in a loop bounded by a deadline.
Rates are decimal: 1 Gbps = 1e9 bit/s, as iperf3 reports them.

VM benchmarks run every configuration in one `burette run` (several backends or variants), so
burette interleaves them iteration by iteration: iteration i of each side ran next to the other's,
a drift of the machine shifts both, and per-iteration ratios are meaningful.
"""

import ctypes
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(REPO, "build", "bin")

_PR_SET_PDEATHSIG = 1
_libc = ctypes.CDLL(None, use_errno=True)


class BenchError(Exception):
    """A failure with a message for the user (what went wrong and what to do)."""


def die(prog, msg, status=1):
    print(f"{prog}: {msg}", file=sys.stderr)
    sys.exit(status)


def _child_setup():
    # Runs in the child between fork and exec: die with the benchmark, whatever kills it.
    _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


class Children:
    """The process groups a benchmark started; cleanup() kills and reaps them all."""

    def __init__(self):
        self.procs = []

    def spawn(self, argv, grace=2.0, own_session=True, **kw):
        """Start argv in its own process group; grace: seconds it gets to stop on SIGTERM.

        own_session=False keeps it in the caller's session, as a shell's job: with the
        scheduler's autogroups (kernel.sched_autogroup_enabled) a session shares the CPU as one
        group, so programs that must be scheduled like burette's children (one session:
        burette's) are started that way.
        """
        where = {"start_new_session": True} if own_session else {"process_group": 0}
        proc = subprocess.Popen(argv, preexec_fn=_child_setup, **where, **kw)
        proc.bench_grace = grace
        self.procs.append(proc)
        return proc

    def kill(self, proc, grace=None):
        """Stop one child's process group: SIGTERM, then SIGKILL after grace seconds."""
        if grace is None:
            grace = proc.bench_grace
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                proc.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                pass
        # The leader may be gone while others in its group live on.
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            pass
        if proc in self.procs:
            self.procs.remove(proc)

    def cleanup(self):
        for proc in list(self.procs):
            self.kill(proc)


def install_cleanup(children, tmpdir=None):
    """Run children.cleanup() and remove tmpdir on exit and on SIGINT/SIGTERM/SIGHUP."""
    import atexit

    def cleanup():
        children.cleanup()
        if tmpdir:
            shutil.rmtree(tmpdir, ignore_errors=True)

    atexit.register(cleanup)

    def on_signal(signum, _frame):
        # SystemExit unwinds through finally blocks; atexit then does the rest.
        signal.signal(signum, signal.SIG_IGN)
        print(f"\ninterrupted by signal {signum}; cleaning up", file=sys.stderr)
        sys.exit(128 + signum)

    for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, on_signal)


def make_tmpdir(prog):
    return tempfile.mkdtemp(prefix=f"{prog}.")


def require_binary(prog, path, what="consomme"):
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        die(prog, f"{path} not found: build first "
                  f"(cmake -S . -B build && cmake --build build -j\"$(nproc)\"), "
                  f"or point --{what} at a built binary")


def require_tool(prog, name, package):
    path = shutil.which(name)
    if not path:
        die(prog, f"'{name}' not found in PATH: install Debian's {package} package "
                  f"(scripts/install-deps does)")
    return path


def free_port():
    """An ephemeral TCP port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _listening(port):
    """True if some socket on 127.0.0.1 or 0.0.0.0 listens on TCP port (from /proc/net/tcp)."""
    want = {f"0100007F:{port:04X}", f"00000000:{port:04X}"}
    with open("/proc/net/tcp") as f:
        next(f)
        for line in f:
            fields = line.split()
            if fields[1] in want and fields[3] == "0A":
                return True
    return False


def wait_listening(proc, port, timeout=10.0, what="server"):
    """Poll until port is in LISTEN state; fail if proc exits first or timeout passes."""
    deadline = time.monotonic() + timeout
    while not _listening(port):
        if proc.poll() is not None:
            raise BenchError(f"{what} exited with status {proc.returncode} before listening "
                             f"on 127.0.0.1:{port}")
        if time.monotonic() > deadline:
            raise BenchError(f"{what} not listening on 127.0.0.1:{port} after {timeout:.0f} s")
        time.sleep(0.02)


def machine_line():
    """One line about the machine: cores, CPU model, load averages."""
    model = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    l1, l5, l15 = os.getloadavg()
    return (f"{os.cpu_count()} cores ({model}), load average {l1:.2f} {l5:.2f} {l15:.2f}, "
            f"kernel {os.uname().release}")


def median(xs):
    return statistics.median(xs) if xs else float("nan")


def load_json(path, what):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        raise BenchError(f"cannot read {what} {path}: {e}")


def status_kib(pid, field="VmRSS"):
    """A size field of /proc/PID/status in KiB: VmRSS (resident set), VmSize (virtual)..."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise BenchError(f"no {field} in /proc/{pid}/status")


def fmt_range(xs, fmt="{:.2f}"):
    if not xs:
        return "n/a"
    return f"{fmt.format(median(xs))} ({fmt.format(min(xs))}-{fmt.format(max(xs))})"


def _proc_sample(pid):
    """(state letter, CPU ns, bytes read) of pid, or None once it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
        with open(f"/proc/{pid}/schedstat") as f:
            cpu = int(f.read().split()[0])
        rchar = 0
        with open(f"/proc/{pid}/io") as f:
            for line in f:
                if line.startswith("rchar:"):
                    rchar = int(line.split()[1])
        return state, cpu, rchar
    except (OSError, IndexError, ValueError):
        return None


def descendants(pid):
    """Every live descendant of pid (through /proc/PID/task/*/children)."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        try:
            tasks = os.listdir(f"/proc/{p}/task")
        except OSError:
            continue
        for t in tasks:
            try:
                with open(f"/proc/{p}/task/{t}/children") as f:
                    kids = [int(x) for x in f.read().split()]
            except OSError:
                continue
            out += kids
            todo += kids
    return out


class Sampler:
    """Samples the processes of one run every period seconds, in a thread, to tell later why
    data stopped: each sample has the time and, per process, its state (R runnable, S asleep...),
    CPU time (ns, /proc/PID/schedstat) and bytes read (/proc/PID/io rchar).

    Processes: the fixed ones given (e.g. the host server) plus every descendant of the `tree`
    pid (the stack process and what runs in its namespace), found again at each sample.
    """

    def __init__(self, fixed, tree, period=0.05):
        import threading
        self.fixed, self.tree, self.period = dict(fixed), tree, period
        self.samples = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self):
        self.t0 = time.monotonic()
        self._thread.start()

    def stop(self):
        self._stop.set()
        self._thread.join()

    def _comm(self, pid):
        try:
            with open(f"/proc/{pid}/comm") as f:
                return f.read().strip()
        except OSError:
            return "?"

    def _run(self):
        while not self._stop.is_set():
            pids = dict(self.fixed)
            pids["stack"] = self.tree
            # The name is read every time: a child is named after its parent until it execs.
            for p in descendants(self.tree):
                pids[f"{self._comm(p)}[{p}]"] = p
            snap = {}
            for role, pid in pids.items():
                s = _proc_sample(pid)
                if s:
                    snap[role] = s
            self.samples.append((time.monotonic() - self.t0, snap))
            self._stop.wait(self.period)

    def data_start(self, role, min_bytes=1 << 20):
        """Sampler time at which role's bytes read first grew by min_bytes (data flowing)."""
        base = None
        for t, snap in self.samples:
            if role not in snap:
                continue
            if base is None:
                base = snap[role][2]
            elif snap[role][2] - base >= min_bytes:
                return t
        return None

    def explain(self, t_from, t_to):
        """Why nothing moved in [t_from, t_to]: 'asleep', 'starved' or 'busy', with details.

        asleep: no process was runnable in at least 75% of the samples: everyone mostly waits
                for an event, so the stall is the stack's (a timer, a lost wakeup, a window).
        starved: some process was runnable (R) in more than 25% of the samples but all of them
                together got under 20% of one CPU: they wanted to run and the scheduler did not
                let them (machine overload).
        busy: processes ran but moved no data.
        """
        win = [s for s in self.samples if t_from <= s[0] <= t_to]
        if len(win) < 2:
            return "unknown", "too few samples"
        runnable = sum(1 for _, snap in win if any(v[0] == "R" for v in snap.values()))
        frac = runnable / len(win)
        first, last = win[0][1], win[-1][1]
        cpu = sum(last[r][1] - first[r][1] for r in last if r in first) / 1e9
        span = win[-1][0] - win[0][0]
        rr = [r for r in last if any(s[1].get(r, ("",))[0] == "R" for s in win)]
        detail = (f"runnable in {frac:.0%} of samples ({', '.join(sorted(rr)) or 'none'}), "
                  f"CPU {cpu:.2f} s in {span:.2f} s")
        if frac < 0.25:
            return "asleep", detail
        if cpu < 0.2 * span:
            return "starved", detail
        return "busy", detail


def run_burette(children, argv, log_path, verbose, own_session=True):
    """Run one burette command to its end, its output in log_path (on the terminal with
    verbose); a failure raises BenchError with burette's status and last lines. own_session:
    as Children.spawn()'s."""
    with open(log_path, "w") as log:
        out = None if verbose else log
        # burette stops its guests and children on SIGTERM; give it time to.
        proc = children.spawn(argv, grace=20.0, own_session=own_session, stdout=out, stderr=out)
        try:
            rc = proc.wait()
        finally:
            children.kill(proc)
    if rc != 0:
        tail = ""
        if not verbose:
            with open(log_path) as f:
                tail = ": " + " | ".join(f.read().strip().splitlines()[-3:])
        raise BenchError(f"burette exited with status {rc}{tail} (all of its output: rerun with "
                         f"-v, or keep it with --out-dir DIR)")


def burette_compare(children, burette, baseline, candidates):
    """`burette compare BASELINE CANDIDATE... --format json`, parsed: per candidate label a
    dict metric name -> that metric's comparison (delta_pct, p_value, verdict, samples)."""
    proc = children.spawn([burette, "compare", baseline, *candidates, "--format", "json"],
                          stdout=subprocess.PIPE)
    out, _ = proc.communicate()
    children.kill(proc)
    if proc.returncode not in (0, 1):
        raise BenchError(f"burette compare exited with status {proc.returncode}")
    try:
        doc = json.loads(out)
    except ValueError as e:
        raise BenchError(f"burette compare printed no JSON: {e}")
    return {c["label"]: {m["name"]: m for m in c.get("metrics", [])}
            for c in doc.get("candidates", [])}


def pair_ratios(candidate, baseline):
    """Ratios candidate[i] / baseline[i] of samples taken side by side (interleaved runs)."""
    return [c / b for c, b in zip(candidate, baseline) if b]
