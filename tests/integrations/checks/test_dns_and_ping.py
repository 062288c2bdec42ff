"""DNS checks against a real dnsmasq on loopback, and ping checks: 127.0.0.1 answers; an address with no route (in a
network namespace of the test's own, so nothing leaves the machine) does not."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import cast

import dns.message
import dns.rrset
import pytest

from integrations.checks.config import DnsCheck, PingCheck
from integrations.checks.probes import probe_dns, probe_ping
from tests.fixtures.ports import free_port
from tests.fixtures.process import ServerProcess, require_binary


@pytest.fixture
def dnsmasq(tmp_path: Path) -> Iterator[int]:
    """dnsmasq answering for the lab's names only, on a free loopback port."""
    binary = require_binary("dnsmasq", "dnsmasq-base")
    port = free_port()
    server = ServerProcess(
        argv=[
            binary, "--keep-in-foreground", "--conf-file=/dev/null", "--no-resolv", "--no-hosts", "--pid-file=",
            "--listen-address=127.0.0.1", "--bind-interfaces", f"--port={port}", "--user=root",
            "--address=/nas.lab/192.168.50.10", "--mx-host=lab,mail.lab,10", "--txt-record=lab,v=spf1 -all",
        ],
        port=port,
        url=f"dns://127.0.0.1:{port}",
        log_path=tmp_path / "dnsmasq.log",
    )  # fmt: skip
    server.start()
    yield port
    server.stop()


def _dns(port: int, query: str, **options: object) -> DnsCheck:
    return DnsCheck.model_validate(
        {"kind": "dns", "name": "dns", "query": query, "server": "127.0.0.1", "port": port, "timeout": "2s", **options}
    )


async def test_dns_answers_and_expectations(dnsmasq: int) -> None:
    found = await probe_dns(_dns(dnsmasq, "nas.lab", expect="192.168.50.10"))
    assert (found.up, found.reason) == (True, "192.168.50.10")
    assert found.response_ms is not None
    mx = await probe_dns(_dns(dnsmasq, "lab", record_type="MX", expect="10 mail.lab."))
    assert mx.up
    assert (await probe_dns(_dns(dnsmasq, "lab", record_type="TXT"))).reason == '"v=spf1 -all"'
    wrong = await probe_dns(_dns(dnsmasq, "nas.lab", expect="192.168.50.11"))
    assert (wrong.up, wrong.reason) == (False, "answered 192.168.50.10, not 192.168.50.11")
    missing = await probe_dns(_dns(dnsmasq, "nobody.lab"))
    assert not missing.up
    assert "nobody.lab" in missing.reason


async def test_dns_server_that_never_answers_is_down_at_the_timeout() -> None:
    silent = await asyncio.get_running_loop().create_datagram_endpoint(
        asyncio.DatagramProtocol, local_addr=("127.0.0.1", 0)
    )
    port = silent[0].get_extra_info("sockname")[1]
    try:
        result = await probe_dns(_dns(port, "nas.lab", timeout="1s"))
    finally:
        silent[0].close()
    assert (result.up, result.reason) == (False, "no answer from 127.0.0.1 within 1s")


async def test_ping_loopback() -> None:
    result = await probe_ping(PingCheck(kind="ping", name="lo", host="127.0.0.1", count=2, timeout="2s"))
    assert result.up, result.reason
    assert result.reason == "2 of 2 answered (0 % loss)"
    assert result.response_ms is not None


@pytest.fixture
def namespace() -> Iterator[str]:
    """A network namespace of the test's own with only its loopback: no route leads anywhere."""
    if os.geteuid() != 0 or shutil.which("ip") is None:
        pytest.skip("network namespaces need root and iproute2 (scripts/test runs as root and installs it)")
    name = f"hubping{uuid.uuid4().hex[:8]}"
    subprocess.run(["ip", "netns", "add", name], check=True)
    subprocess.run(["ip", "-n", name, "link", "set", "lo", "up"], check=True)
    yield name
    subprocess.run(["ip", "netns", "delete", name], check=False)


def test_ping_an_unreachable_host_is_down(namespace: str) -> None:
    probe = (
        "import asyncio; from integrations.checks.config import PingCheck; "
        "from integrations.checks.probes import probe_ping; "
        "r = asyncio.run(probe_ping(PingCheck(kind='ping', name='x', host='10.255.255.1', count=2, timeout='2s'))); "
        "print(r.up, r.reason, sep='|')"
    )
    inside = subprocess.run(
        ["ip", "netns", "exec", namespace, sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
        cwd=Path(__file__).resolve().parents[3],
    )
    up, reason = inside.stdout.strip().split("|")
    assert up == "False"
    assert reason, inside.stderr


class _Flood(asyncio.DatagramProtocol):
    """A hostile DNS server: each query gets `junk` datagrams of noise and answers for other query ids, then (if
    `answer_records`) a real answer holding that many A records."""

    def __init__(self, junk: int, answer_records: int) -> None:
        self.junk = junk
        self.answer_records = answer_records
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        assert self.transport is not None
        query = dns.message.from_wire(data)
        for index in range(self.junk):
            other = dns.message.make_response(query)
            other.id = (query.id + 1 + index) % 65536
            self.transport.sendto(other.to_wire() if index % 2 else os.urandom(512), addr)
        if self.answer_records:
            answer = dns.message.make_response(query)
            addresses = [f"10.{i // 65536 % 256}.{i // 256 % 256}.{i % 256}" for i in range(self.answer_records)]
            answer.answer.append(dns.rrset.from_text_list(query.question[0].name, 60, "IN", "A", addresses))
            self.transport.sendto(answer.to_wire(max_size=65535), addr)


async def _flooded(protocol: _Flood, timeout: str) -> tuple[object, float, float]:
    """The probe's result against `protocol`, its wall time, and the longest the event loop was held meanwhile."""
    loop = asyncio.get_running_loop()
    transport, _ = await loop.create_datagram_endpoint(lambda: protocol, local_addr=("127.0.0.1", 0))
    port = transport.get_extra_info("sockname")[1]
    longest = 0.0

    async def ticker() -> None:
        nonlocal longest
        while True:
            before = loop.time()
            await asyncio.sleep(0.01)
            longest = max(longest, loop.time() - before - 0.01)

    ticking = asyncio.create_task(ticker())
    started = loop.time()
    try:
        result = await probe_dns(_dns(port, "nas.lab", timeout=timeout))
    finally:
        ticking.cancel()
        transport.close()
    return result, loop.time() - started, longest


async def test_dns_answer_flood_is_bounded_and_stalls_nothing() -> None:
    result, took, held = await _flooded(_Flood(junk=3000, answer_records=0), "1s")
    assert (result.up, result.reason) == (False, "no answer from 127.0.0.1 within 1s")  # type: ignore[attr-defined]
    assert took < 1.5
    assert held < 0.25, f"the event loop was held {held:.3f} s"


async def test_dns_answer_of_thousands_of_records_is_read_and_cut_short() -> None:
    # Noise first (skipped), then one 48 kB answer. (A few hundred noise datagrams would fill the socket's receive
    # buffer and the kernel would drop the answer: that is the flood above, down at the timeout.)
    result, took, _ = await _flooded(_Flood(junk=20, answer_records=3000), "2s")
    assert result.up  # type: ignore[attr-defined]
    assert len(result.reason) <= 200  # type: ignore[attr-defined]
    assert result.reason.count(", ") < 20  # type: ignore[attr-defined]
    assert took < 2
