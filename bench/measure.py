"""Run one case as a child process and measure wall time, peak RSS and CPU time of its whole process tree.

Peak RSS is the peak of the *sum* over the tree (driver + workers), polled every 0.1 s; CPU time sums the last
seen user+system time of every process in the tree
(each process's own time, last seen up to 0.1 s before it exits). CPU time is the steadier figure on a shared machine: wall
time depends on what else runs.
"""

from __future__ import annotations

import os
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil


@dataclass
class Measured:
    seconds: float
    peak_rss_mb: float
    cpu_seconds: float
    stdout: str
    returncode: int
    # each process's own peak, named "driver" (the command itself) or "child1", "child2"... in order seen: the
    # largest single process is what a worker's memory limit meets
    per_process_peak_mb: dict[str, float] = field(default_factory=dict)


def run_measured(cmd: list[str], env: dict[str, str] | None = None, poll: float = 0.1,
                 ok_codes: tuple[int, ...] = (0,)) -> Measured:
    started = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)
    root = psutil.Process(proc.pid)
    cpu: dict[int, float] = {}
    own_peak: dict[int, int] = {}
    names: dict[int, str] = {}
    peak = 0
    while proc.poll() is None:
        total = 0
        try:
            procs = [root, *root.children(recursive=True)]
        except psutil.Error:
            procs = []
        for p in procs:
            try:
                with p.oneshot():
                    rss = p.memory_info().rss
                    t = p.cpu_times()
                total += rss
                # own time only: children_* would count reaped workers a second time
                cpu[p.pid] = t.user + t.system
                own_peak[p.pid] = max(own_peak.get(p.pid, 0), rss)
                names.setdefault(p.pid, "driver" if p.pid == proc.pid else f"child{len(names)}")
            except psutil.Error:
                continue
        peak = max(peak, total)
        time.sleep(poll)
    out, err = proc.communicate()
    seconds = time.monotonic() - started
    if proc.returncode not in ok_codes:
        tail = "\n".join(err.strip().splitlines()[-15:])
        raise RuntimeError(f"{' '.join(cmd[:4])}... exited {proc.returncode}:\n{tail}")
    return Measured(seconds, peak / 2**20, sum(cpu.values()), out, proc.returncode,
                    {names[k]: round(v / 2**20) for k, v in own_peak.items()})


def key_env(out: Path) -> dict[str, str]:
    """The environment for a measured `prepkit run`: a bench key file of its own under `out`, never the user's."""
    key = out / "bench.key"
    if not key.exists():
        from prepkit.keys import write_key_file

        out.mkdir(parents=True, exist_ok=True)
        write_key_file(key)
    env = {**os.environ, "PREPKIT_KEY_FILE": str(key)}
    env.pop("PREPKIT_KEY", None)
    return env


def as_row(m: Measured, records: int, chars: int, **extra: Any) -> dict[str, Any]:
    return {"seconds": round(m.seconds, 2), "cpu_seconds": round(m.cpu_seconds, 2),
            "peak_rss_mb": round(m.peak_rss_mb, 1), "records": records, "chars": chars,
            "records_per_s": round(records / m.seconds, 1), "chars_per_s": round(chars / m.seconds),
            "chars_per_cpu_s": round(chars / m.cpu_seconds) if m.cpu_seconds else None, **extra}
