"""Three RabbitMQ nodes on loopback, clustered, for the cluster scenarios: each with its
own node name, AMQP and distribution ports, data and log folders, and an Erlang cookie of
its own (a HOME of its own). The machine's broker (rabbit@<host>, port 5672) and its
cookie are never touched. Every node started here is stopped when the context ends, by
its own process group, whatever happened."""

import contextlib
import os
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tests.smtp_server import free_port

BOOT_TIMEOUT = 120
# The scripts themselves: the /usr/sbin wrappers switch to the rabbitmq user and its HOME,
# and so to the machine broker's cookie.
SBIN = Path("/usr/lib/rabbitmq/bin")


@dataclass
class Node:
    name: str  # faults-<run>-a@localhost
    port: int
    env: dict[str, str]
    process: subprocess.Popen[bytes] | None = None
    started_at: list[float] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.port}/"


class Cluster:
    def __init__(self, workdir: Path, size: int = 3) -> None:
        run = uuid.uuid4().hex[:6]
        home = workdir / "home"
        home.mkdir(parents=True)
        cookie = home / ".erlang.cookie"
        cookie.write_text(uuid.uuid4().hex.upper())
        cookie.chmod(0o400)
        (workdir / "enabled_plugins").write_text("[].\n")
        (workdir / "rabbitmq-env.conf").write_text("")
        self.home = home
        letters = "abcdefg"[:size]
        self.nodes = [self._node(workdir, f"faults-{run}-{x}@localhost") for x in letters]
        peers = "".join(
            f"cluster_formation.classic_config.nodes.{i} = {n.name}\n"
            for i, n in enumerate(self.nodes, 1)
        )
        for node in self.nodes:
            conf = Path(node.env["RABBITMQ_CONFIG_FILE"])
            conf.write_text(
                f"listeners.tcp.default = 127.0.0.1:{node.port}\n"
                "cluster_formation.peer_discovery_backend = classic_config\n" + peers
            )

    def _node(self, workdir: Path, name: str) -> Node:
        folder = workdir / name.split("@")[0]
        folder.mkdir()
        port, dist = free_port(), free_port()
        env = {
            "PATH": os.environ["PATH"],
            "HOME": str(self.home),
            "LANG": "C.UTF-8",
            "ERL_EPMD_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODENAME": name,
            "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODE_PORT": str(port),
            "RABBITMQ_DIST_PORT": str(dist),
            "RABBITMQ_MNESIA_BASE": str(folder / "mnesia"),
            "RABBITMQ_LOG_BASE": str(folder / "log"),
            "RABBITMQ_PID_FILE": str(folder / "pid"),
            "RABBITMQ_CONFIG_FILE": str(folder / "rabbitmq.conf"),
            "RABBITMQ_ADVANCED_CONFIG_FILE": str(folder / "advanced.config"),
            "RABBITMQ_CONF_ENV_FILE": str(workdir / "rabbitmq-env.conf"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(workdir / "enabled_plugins"),
            "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS": "-kernel inet_dist_use_interface {127,0,0,1}",
        }
        return Node(name, port, env)

    def start(self, node: Node) -> None:
        assert node.process is None or node.process.poll() is not None
        log = open(Path(node.env["RABBITMQ_LOG_BASE"]).parent / "server.out", "ab")  # noqa: SIM115
        with log:
            node.process = subprocess.Popen(
                [str(SBIN / "rabbitmq-server")], env=node.env, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        node.started_at.append(time.time())

    def await_startup(self, node: Node) -> None:
        """Until the node has booted (rabbitmqctl gives up at once while it cannot reach
        the node at all, so it is asked again)."""
        deadline = time.time() + BOOT_TIMEOUT
        while True:
            try:
                self.ctl(node, "await_startup", "--timeout", "30", timeout=40)
                return
            except subprocess.CalledProcessError:
                assert node.process is not None and node.process.poll() is None, node.name
                if time.time() > deadline:
                    raise
                time.sleep(0.5)

    def kill(self, node: Node) -> None:
        """SIGKILL to the node's whole process group: as when its machine dies."""
        assert node.process is not None
        with contextlib.suppress(ProcessLookupError):
            os.killpg(node.process.pid, signal.SIGKILL)
        node.process.wait(timeout=30)

    def ctl(self, node: Node, *args: str, timeout: float = 60) -> str:
        result = subprocess.run(
            [str(SBIN / "rabbitmqctl"), "-n", node.name, *args],
            env=node.env, capture_output=True, text=True, timeout=timeout, check=True,
        )  # fmt: skip
        return result.stdout

    def running_nodes(self, via: Node) -> set[str]:
        out = self.ctl(via, "eval", "rabbit_nodes:all_running().")
        return {name for name in self.names() if name in out}

    def names(self) -> list[str]:
        return [node.name for node in self.nodes]

    def leader(self, via: Node, queue: str) -> str:
        out = self.ctl(via, "list_queues", "-q", "--no-table-headers", "name", "leader")
        for line in out.splitlines():
            parts = line.split()
            if parts and parts[0] == queue:
                return parts[1]
        raise LookupError(f"{queue} not on {via.name}")

    def node(self, name: str) -> Node:
        return next(node for node in self.nodes if node.name == name)

    def stop_all(self) -> None:
        for node in self.nodes:
            if node.process is not None and node.process.poll() is None:
                self.kill(node)


@contextlib.contextmanager
def cluster(workdir: Path, size: int = 3) -> Iterator[Cluster]:
    """`size` nodes clustered: the first boots alone, the others join it on their boot."""
    started = Cluster(workdir, size)
    try:
        first, *others = started.nodes
        started.start(first)
        started.await_startup(first)
        for node in others:
            started.start(node)
        for node in others:
            started.await_startup(node)
        assert started.running_nodes(first) == set(started.names())
        yield started
    finally:
        started.stop_all()
