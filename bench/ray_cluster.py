"""A real multi-node Ray cluster on this machine, for the cluster test and bench/ray_nodes.py.

    with LocalRayCluster([{"CPU": 1}, {"CPU": 1, "node2": 1}]) as cluster:
        env = cluster.client_env()   # RAY_ADDRESS and the cluster's auth token
        subprocess.run(["prepkit", "run", "--engine", "ray", ...], env=env)

Each node is its own `ray start` (`--head` for the first, `--address=HEAD` for the others) with its own ports, CPU
count and custom resources, all under a private `--temp-dir`, so nothing else on the machine sees this cluster
(`ray.init()` elsewhere finds no /tmp/ray/ray_current_cluster of ours) and `ray stop` is never needed: every node
runs `--block` in a session of its own, and stopping kills exactly those sessions' processes (a plain `ray stop`
would kill every Ray process on the machine, other people's included).
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Any

RAY = str(Path(sys.executable).with_name("ray"))


_handed_out: set[int] = set()


def free_port() -> int:
    """A free port, never one this process handed out before (the kernel may offer a just-closed port again)."""
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = int(s.getsockname()[1])
        if port not in _handed_out:
            _handed_out.add(port)
            return port


def _ephemeral_range() -> tuple[int, int]:
    """The kernel's range for port-0 binds; Ray's own "random" ports and free_port() come from it."""
    try:
        lo, hi = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(lo), int(hi)
    except (OSError, ValueError):
        return 32768, 60999


_WORKER_SPAN = 200
_taken_ranges: list[range] = []


def _worker_range() -> range:
    """200 consecutive free ports *below* the ephemeral range, apart from every range handed out before.

    Ray needs a range for worker ports. A range inside the ephemeral range can hold a port the kernel has
    already given to another component of the same node (Ray refuses to start: "worker_ports is trying to use a
    port number ... used by other components"), so it is taken from below it, where port-0 binds never land.
    """
    eph_lo, _ = _ephemeral_range()
    top = max(eph_lo - _WORKER_SPAN, 10000 + _WORKER_SPAN)
    for _ in range(200):
        base = secrets.randbelow(top - 10000) + 10000
        cand = range(base, base + _WORKER_SPAN)
        if any(cand.start < r.stop and r.start < cand.stop for r in _taken_ranges):
            continue
        if all(_bindable(p) for p in cand[:: _WORKER_SPAN // 10]):
            _taken_ranges.append(cand)
            return cand
    raise RuntimeError("no free range of 200 ports for Ray workers below the ephemeral range")


def _bindable(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _ports() -> list[str]:
    """Every port a node listens on, chosen free: two nodes on one machine must not share any."""
    workers = _worker_range()
    return ["--node-manager-port", str(free_port()), "--object-manager-port", str(free_port()),
            "--min-worker-port", str(workers.start), "--max-worker-port", str(workers.stop - 1),
            "--dashboard-agent-listen-port", str(free_port()), "--dashboard-agent-grpc-port", str(free_port()),
            "--runtime-env-agent-port", str(free_port()), "--metrics-export-port", str(free_port())]


class LocalRayCluster:
    """`nodes`: one resource dict per node ({"CPU": 1, "custom": 1}); the first is the head."""

    def __init__(self, nodes: list[dict[str, float]], *, start_timeout: float = 180.0,
                 object_store_bytes: int = 200 * 1024 * 1024) -> None:
        # short: Ray's Unix socket paths under it must stay within 107 bytes (pytest's tmp_path is too deep)
        self.temp_dir = Path(tempfile.mkdtemp(prefix="pk-ray-", dir="/tmp"))
        self.nodes = nodes
        self.start_timeout = start_timeout
        self.object_store_bytes = object_store_bytes
        self.port = free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.procs: list[subprocess.Popen[bytes]] = []
        self.logs: list[Path] = []
        self.token = self.temp_dir / "auth_token"

    def _start(self, i: int, res: dict[str, float]) -> None:
        custom = {k: v for k, v in res.items() if k != "CPU"}
        cmd = [RAY, "start", "--block", "--disable-usage-stats",
               "--num-cpus", str(int(res.get("CPU", 1))), "--num-gpus", "0",
               "--object-store-memory", str(self.object_store_bytes), *_ports()]
        if custom:
            cmd += ["--resources", json.dumps(custom)]
        if i == 0:
            cmd += ["--head", "--port", str(self.port), "--temp-dir", str(self.temp_dir),
                    "--include-dashboard", "false"]
        else:
            cmd += ["--address", self.address]
        log = self.temp_dir / f"node{i}.log"
        self.logs.append(log)
        with log.open("wb") as out:
            # a session of its own: stop() kills exactly this node's processes (raylet, GCS, workers)
            self.procs.append(subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=self._env(),
                                               start_new_session=True))

    def _env(self) -> dict[str, str]:
        env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0", "RAY_AUTH_MODE": "token",
               "RAY_AUTH_TOKEN_PATH": str(self.token)}
        env.pop("RAY_ADDRESS", None)
        env.pop("RAY_AUTH_TOKEN", None)
        return env

    def client_env(self) -> dict[str, str]:
        """The environment a driver (`prepkit run --engine ray`) needs to join this cluster."""
        return {**self._env(), "RAY_ADDRESS": self.address}

    def __enter__(self) -> LocalRayCluster:
        # Token authentication (Ray's default) with a token of this cluster's own, not ~/.ray/auth_token
        self.token.write_text(secrets.token_hex(32))
        self.token.chmod(0o600)
        try:
            self._start(0, self.nodes[0])
            self._wait_nodes(1)
            for i, res in enumerate(self.nodes[1:], start=1):
                self._start(i, res)
            self._wait_nodes(len(self.nodes))
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()

    def _wait_nodes(self, n: int) -> None:
        """Generous: on a loaded 2-core machine a node can take a minute to register."""
        deadline = time.monotonic() + self.start_timeout
        probe = ("import ray, sys; ray.init(address=sys.argv[1], log_to_driver=False, configure_logging=False); "
                 "print(sum(1 for n in ray.nodes() if n['Alive']))")
        env = self._env()
        while True:
            for p, log in zip(self.procs, self.logs, strict=True):
                if p.poll() is not None:
                    raise RuntimeError(f"ray node exited with {p.returncode}: {log.read_text()[-2000:]}")
            try:
                got = subprocess.run([sys.executable, "-c", probe, self.address], capture_output=True, text=True,
                                     env=env, timeout=min(max(deadline - time.monotonic(), 5), 45))
                if got.returncode == 0 and int(got.stdout.strip().splitlines()[-1]) >= n:
                    return
            except (subprocess.TimeoutExpired, ValueError, IndexError):
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"the Ray cluster did not reach {n} node(s) in {self.start_timeout:.0f} s")
            time.sleep(1.0)

    def stop(self) -> None:
        """Kill every process of the sessions this cluster started, and nothing else."""
        sids = {p.pid for p in self.procs}
        # SIGKILL at once: a throwaway cluster has nothing to drain (SIGTERM makes each node drain for up to 30 s)
        deadline = time.monotonic() + 30
        while (alive := _in_sessions(sids)) and time.monotonic() < deadline:
            for pid in alive:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.2)
        for p in self.procs:
            with contextlib.suppress(subprocess.TimeoutExpired):
                p.wait(timeout=10)
        self.procs = []
        shutil.rmtree(self.temp_dir, ignore_errors=True)

    def resources(self) -> dict[str, Any]:
        return {"address": self.address, "nodes": self.nodes}


def _in_sessions(sids: set[int]) -> list[int]:
    found: list[int] = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] != "Z" and int(fields[3]) in sids:  # field 6 of /proc/PID/stat: the session id
            found.append(int(entry.name))
    return found
