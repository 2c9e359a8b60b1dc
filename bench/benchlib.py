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

    def spawn(self, argv, grace=2.0, **kw):
        """Start argv in its own process group; grace: seconds it gets to stop on SIGTERM."""
        proc = subprocess.Popen(argv, start_new_session=True, preexec_fn=_child_setup, **kw)
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
