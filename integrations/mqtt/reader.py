"""`PublishReader`: the ingest connection's socket read in large chunks, its PUBLISH packets decoded here.

paho reads a packet with three or more `recv` calls, builds an `MQTTMessage`, matches its topic against the
callback filters, and aiomqtt wraps it again in a `Message`: together about half of the ingest's CPU per
message (issue 5). Here one `recv` brings up to 64 KiB, QoS 0 and 1 PUBLISH packets (MQTT 3.1.1, spec 3.3) are
cut out of it and handed on as (topic, payload), and QoS 1 ones acknowledged through paho. Every other packet
(SUBACK, UNSUBACK, PINGRESP, PUBACK, a QoS 2 PUBLISH) goes to paho's own handler, in order, so paho still owns
the session: keepalive, subscriptions and publishing.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import paho.mqtt.client as paho
from paho.mqtt.enums import MQTTErrorCode
from paho.mqtt.exception import MalformedPacket

from hub.core.log_limit import LogLimit

__all__ = ["PublishReader"]

_LOGGER = logging.getLogger(__name__)

CHUNK = 64 * 1024
"""Bytes asked of the socket per `recv`."""
TURN = 256 * 1024
"""Bytes read per readable event at most, so the event loop still turns under a flood (epoll calls again)."""
MAX_PACKET = 1024 * 1024
"""Larger packets are read past and dropped, never held whole: no state, attributes or discovery message needs
a MiB, and the broker allows 256 MiB."""
_PEEK = 2 + 65_535 + 2
"""Bytes of a PUBLISH body that hold its topic (at most 65,535 bytes) and packet id, whatever its size."""
_PUBLISH = 0x30
_OK = MQTTErrorCode.MQTT_ERR_SUCCESS
"""paho's enum member, looked up once (reading it off the class costs 0.2 µs each time on Python 3.11)."""


def _fresh_packet() -> dict[str, object]:
    """paho's state of a packet being read, as it resets it after each one."""
    return {
        "command": 0,
        "have_remaining": 0,
        "remaining_count": [],
        "remaining_mult": 1,
        "remaining_length": 0,
        "packet": bytearray(),
        "to_process": 0,
        "pos": 0,
    }


class PublishReader:
    """Replaces `loop_read` of one connected paho client (MQTT 3.1.1); `deliver` gets every message in order."""

    def __init__(self, client: paho.Client, deliver: Callable[[str, bytes], None], junk: LogLimit) -> None:
        self._client = client
        self._deliver = deliver
        self._junk = junk
        self._parts: list[bytes] = []
        """Bytes read and not yet acted on: the start of a packet whose end has not arrived."""
        self._size = 0
        self._need = 0
        """Bytes `_parts` must reach before parsing again is worth it (a packet in many reads is joined once)."""
        self._skip = 0
        """Bytes still to come of a packet larger than `MAX_PACKET`, dropped as they arrive."""

    def install(self) -> None:
        self._client.disable_logger()  # paho logs every packet at debug level, even when unheard
        self._client.loop_read = self.loop_read  # type: ignore[method-assign]

    def loop_read(self, max_packets: int = 1) -> MQTTErrorCode:
        """What paho's `loop_read` does when the socket is readable: read, and act on every whole packet."""
        client = self._client
        size = 0
        while size < TURN:
            try:
                chunk = client._sock_recv(CHUNK)
            except BlockingIOError:
                break
            except OSError:
                return client._loop_rc_handle(MQTTErrorCode.MQTT_ERR_CONN_LOST)
            if not chunk:
                return client._loop_rc_handle(MQTTErrorCode.MQTT_ERR_CONN_LOST)
            size += len(chunk)
            self._received(chunk)
        if size:
            client._last_bytes_received = time.monotonic()  # paho's keepalive clock (its `time_func`)
        if self._size < self._need or not self._parts:
            return _OK
        data = b"".join(self._parts)
        self._parts, self._size = [], 0
        rc = self._packets(data)
        return client._loop_rc_handle(rc) if rc else rc

    def _received(self, chunk: bytes) -> None:
        if self._skip:
            if len(chunk) <= self._skip:
                self._skip -= len(chunk)
                return
            chunk, self._skip = chunk[self._skip :], 0
        self._parts.append(chunk)
        self._size += len(chunk)

    def _packets(self, data: bytes) -> MQTTErrorCode:
        """Every whole packet in `data`; an incomplete one is kept for the next read."""
        pos, end = 0, len(data)
        self._need = 0
        while pos < end:
            command = data[pos]
            length, multiplier, at = 0, 1, pos + 1
            while True:
                if at == end:
                    return self._wait(data[pos:], 0)
                byte = data[at]
                at += 1
                length += (byte & 0x7F) * multiplier
                multiplier *= 128
                if byte < 0x80:
                    break
                if at - pos > 4:  # at most 4 bytes of remaining length (spec 2.2.3)
                    return MQTTErrorCode.MQTT_ERR_PROTOCOL
            have = end - at
            if length > MAX_PACKET:
                if have < _PEEK:
                    return self._wait(data[pos:], at - pos + _PEEK)
                rc = self._oversized(command, data[at : at + _PEEK], length)
                if rc or length > have:
                    self._skip = length - have if not rc else 0
                    return rc
            elif have < length:
                return self._wait(data[pos:], at - pos + length)
            elif command & 0xF0 == _PUBLISH and not command & 0x04:  # QoS 0 or 1
                rc = self._publish(command, data[at : at + length])
            else:
                rc = self._to_paho(command, data[at : at + length])
            if rc:
                return rc
            pos = at + length
        return _OK

    def _wait(self, rest: bytes, need: int) -> MQTTErrorCode:
        self._parts, self._size, self._need = [rest], len(rest), need
        return _OK

    def _publish(self, command: int, body: bytes) -> MQTTErrorCode:
        """A QoS 0 or 1 PUBLISH: topic length, topic, packet id (QoS 1 only), payload."""
        topic, payload_at = _topic(command, body)
        if payload_at < 0:
            return MQTTErrorCode.MQTT_ERR_PROTOCOL
        try:
            text = topic.decode()
        except UnicodeDecodeError:
            self._junk.warning("topic", "Dropped MQTT message on topic %r: the topic is not UTF-8", topic)
        else:
            self._deliver(text, body[payload_at:])
        return self._acknowledge(command, body, payload_at)

    def _oversized(self, command: int, head: bytes, length: int) -> MQTTErrorCode:
        """A packet over `MAX_PACKET`: logged and dropped (acknowledged if QoS 1) from its first bytes."""
        if command & 0xF0 != _PUBLISH or command & 0x04:  # we subscribe at QoS 0 and 1 only
            return MQTTErrorCode.MQTT_ERR_PROTOCOL
        topic, payload_at = _topic(command, head)
        if payload_at < 0:
            return MQTTErrorCode.MQTT_ERR_PROTOCOL
        shown = topic.decode(errors="replace")
        self._junk.warning(
            shown,
            "Dropped MQTT message on %s: a packet of %d bytes, more than the %d accepted",
            shown,
            length,
            MAX_PACKET,
        )
        return self._acknowledge(command, head, payload_at)

    def _acknowledge(self, command: int, body: bytes, payload_at: int) -> MQTTErrorCode:
        if command & 0x02:  # QoS 1: the packet id is the two bytes before the payload
            return self._client._send_puback(int.from_bytes(body[payload_at - 2 : payload_at], "big"))
        return _OK

    def _to_paho(self, command: int, body: bytes) -> MQTTErrorCode:
        client = self._client
        packet = _fresh_packet()
        packet.update(command=command, have_remaining=1, remaining_length=len(body), packet=bytearray(body))
        client._in_packet = packet  # type: ignore[assignment]
        try:
            return client._packet_handle()
        except MalformedPacket:  # what paho's own `_packet_read` makes of one
            return MQTTErrorCode.MQTT_ERR_PROTOCOL
        finally:
            client._in_packet = _fresh_packet()  # type: ignore[assignment]


def _topic(command: int, body: bytes) -> tuple[bytes, int]:
    """The topic of a QoS 0 or 1 PUBLISH body and where its payload starts (-1 if the body is too short)."""
    if len(body) < 2:
        return b"", -1
    start = 2 + int.from_bytes(body[:2], "big")
    payload_at = start + 2 if command & 0x02 else start
    return body[2:start], payload_at if payload_at <= len(body) else -1
