#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Write the seed programs of consomme_state_fuzz (see its header for the op set).

Usage: state_seeds.py DIR   (the committed seeds are tests/data/consomme_state_fuzz)

Each seed reaches one part of the TCP or UDP data path the fuzzer should start from; the
fuzzer mutates them into the rest. Regression seeds for bugs it found are kept beside these
under their own names and are not written here.
"""
import os
import struct
import sys

(CONNECT, SYN, SEND, ACK, FIN, RST, SEG, HWRITE, HREAD, HSHUT, HCLOSE, CLOCK, QCAP, SLOW,
 DRAIN, UDP, UDPREPLY, RAW, HOLD, PARSE, VHOST, VIRTQ, STATS, RUN, VHOST_SOCK) = range(25)


def u16(v):
    return struct.pack(">H", v & 0xffff)


def hdr(mtu=0, rx=1, tx=1, conns=1, isn=0, qcap=8, slow=False, tr=0, sockbuf=0, listen=0):
    """tr: 0 the fuzzer's own queue, 1 consomme's stream transport, 2 its TAP transport;
    sockbuf with tr 0: odd when the queue takes TCP super-frames (GUEST_TSO4); listen with
    tr 1: 1 through consomme's listening socket, 2 the same over a stale socket"""
    return bytes([mtu | rx << 2 | tx << 4 | conns << 6, isn | qcap << 2 | (0x80 if slow else 0),
                  tr + 3 * sockbuf | (0x80 if listen else 0) | (0x40 if listen == 2 else 0)])


def connect(slot=0, dst=0, opts=0, isn=0x05, win=0xffff, op=CONNECT):
    """opts: the SYN's options byte (guest_syn()), read before the ISN selector"""
    return bytes([op, slot, dst, opts, isn]) + u16(win)


def send(slot, n):
    return bytes([SEND, slot]) + u16(n)


def ack(slot=0, mode=0, n=0, win=0xffff):
    return bytes([ACK, slot, mode]) + u16(n) + u16(win)


def seg(slot, flags, mode, off, amode, aoff, win, n):
    return bytes([SEG, slot, flags, mode]) + u16(off) + bytes([amode]) + u16(aoff) + u16(win) + u16(n)


def hwrite(slot, n):
    return bytes([HWRITE, slot]) + u16(n)


def hread(slot, n=0):
    return bytes([HREAD, slot]) + u16(n)


def clock(ms, scale=0):
    return bytes([CLOCK]) + u16(ms) + bytes([scale])


def udp(d, sp, n, cs=0):
    return bytes([UDP, d, sp]) + u16(n) + bytes([cs])


def udp_reply(k, i, n):
    return bytes([UDPREPLY, k, i]) + u16(n)


GUEST_MAC = bytes.fromhex("525400123456")
GUEST, GW, DNS = 0x0a00020f, 0x0a000202, 0x0a000203


def raw(frame, fix=3):
    """RAW: a frame, its IPv4 and L4 checksums fixed up (fix bits 0 and 1)"""
    return bytes([RAW, fix]) + u16(len(frame)) + frame


def ipv4(src, dst, proto, l4, dmac=b"\xff" * 6, ttl=64, frag=0x4000, ihl=5):
    ip = struct.pack(">BBHHHBBHII", 0x40 | ihl, 0, 4 * ihl + len(l4), 1, frag, ttl, proto, 0,
                     src, dst) + b"\x01\x01\x01\x00" * (ihl - 5)
    return dmac + GUEST_MAC + b"\x08\x00" + ip + l4


def dhcp(mtype, opts=b"", flags=0x8000, ciaddr=0, op=1, htype=1, magic=b"\x63\x82\x53\x63",
         src=0, dst=0xffffffff, end=b"\xff"):
    bootp = struct.pack(">BBBBIHHIIII", op, htype, 6, 0, 0xdeadbeef, 0, flags, ciaddr, 0, 0, 0)
    bootp += GUEST_MAC + b"\0" * 10 + b"\0" * 192 + magic
    if mtype is not None:
        bootp += bytes([53, 1, mtype])
    bootp += opts + end
    udp = struct.pack(">HHHH", 68, 67, 8 + len(bootp), 0) + bootp
    return raw(ipv4(src, dst, 17, udp))


def icmp(typ, code=0, dst=GW, n=32, fix=3):
    body = bytes([typ, code, 0, 0]) + struct.pack(">HH", 7, 1) + bytes(i & 255 for i in range(n))
    csum = 0
    for i in range(0, len(body), 2):
        csum += body[i] << 8 | (body[i + 1] if i + 1 < len(body) else 0)
    while csum >> 16:
        csum = (csum & 0xffff) + (csum >> 16)
    body = body[:2] + struct.pack(">H", ~csum & 0xffff) + body[4:]
    return raw(ipv4(GUEST, dst, 1, body, dmac=bytes.fromhex("525400123502")), fix)


def arp(op=1, spa=GUEST, tpa=GW, hw=1):
    a = struct.pack(">HHBBH", hw, 0x0800, 6, 4, op) + GUEST_MAC + struct.pack(">I", spa) \
        + b"\0" * 6 + struct.pack(">I", tpa)
    return raw(b"\xff" * 6 + GUEST_MAC + b"\x08\x06" + a, 0)


SEEDS = {
    # handshake, data both ways, both FINs (guest first), TIME_WAIT not needed
    "data_both_ways": hdr() + connect() + send(0, 1000) + hread(0) + hwrite(0, 3000) + ack()
    + bytes([FIN, 0]) + bytes([HSHUT, 0, 0]) + ack() + clock(3000),
    # our FIN first: the host closes, the guest ACKs and FINs, TIME_WAIT, its FIN again
    "time_wait": hdr() + connect() + hwrite(0, 500) + bytes([HSHUT, 0, 0]) + ack()
    + bytes([FIN, 0]) + bytes([FIN, 0]) + clock(1000) + bytes([FIN, 0]) + clock(3000),
    # data never ACKed: RTO, go-back-N, then duplicate ACKs (fast retransmit), then all
    "retransmit": hdr(isn=1) + connect(opts=1) + hwrite(0, 6000) + clock(1100) + clock(2100)
    + ack(0, 1, 3000) + ack(0, 3) + ack(0, 3) + ack(0, 3) + ack(0, 3) + ack(),
    # out-of-order: a segment beyond a hole, then the hole, then a FIN beyond a hole
    "reassembly": hdr() + connect() + seg(0, 0x10, 1, 1000, 0, 0, 0xffff, 500)
    + seg(0, 0x10, 1, 3000, 0, 0, 0xffff, 200) + send(0, 1000) + seg(0, 0x11, 1, 2500, 0, 0,
                                                                    0xffff, 0)
    + seg(0, 0x10, 5, 0, 0, 0, 0xffff, 1500) + hread(0),
    # the guest's window closes while the host streams: probes, then it opens again
    "zero_window": hdr() + connect() + ack(win=0) + hwrite(0, 8000) + clock(1100) + clock(2100)
    + ack(win=0) + clock(4100) + ack(win=0xffff) + hread(0),
    # the host does not read while the guest streams: rx fills, grows, the host drains it
    "backpressure": hdr(rx=2) + connect(isn=0x75) + b"".join(send(0, 1400) for _ in range(24))
    + hread(0) + b"".join(send(0, 1400) for _ in range(8)) + hread(0),
    # a slow guest with a small queue: -ENOBUFS, then tcp_guest_writable() when it drains
    "slow_guest": hdr(tx=2, qcap=1, slow=True) + connect() + hwrite(0, 30000) + bytes([DRAIN, 0])
    + ack() + bytes([DRAIN, 0]) + hwrite(0, 30000) + bytes([DRAIN, 0]) + ack(),
    # RST in CONNECTING (stuck listener), SYN_RCVD, ESTABLISHED; host resets; bad ACK
    "resets": hdr(conns=3) + connect(0, dst=5, op=SYN) + connect(0, dst=5, op=SYN)
    + bytes([RST, 0, 0]) + connect(1, op=SYN) + bytes([RST, 1, 0]) + connect(2, op=SYN)
    + seg(2, 0x10, 0, 0, 2, 5, 0xffff, 0) + connect(3) + hwrite(3, 100)
    + bytes([HCLOSE, 3, 1]) + ack(3) + clock(60000, 1),
    # refused and limited: closed port, DNS address on 80, more connections than allowed
    "refused": hdr(conns=0) + connect(0, dst=6) + connect(1, dst=7) + connect(2) + connect(3),
    # UDP: a flow and its reply, DNS, a closed port (ICMP back), the flow limit, expiry
    "udp": hdr() + udp(0, 1, 100) + udp_reply(0, 0, 200) + udp(2, 2, 40) + udp_reply(1, 0, 80)
    + udp(1, 3, 10) + udp(0, 4, 10, 1) + udp(0, 5, 10) + udp(0, 6, 10) + clock(20000)
    + clock(60000, 1),
    # several segments in one batch, host close while data is in flight
    "batch": hdr() + connect() + bytes([HOLD]) + send(0, 500) + send(0, 500) + send(0, 500)
    + bytes([FIN, 0, HOLD]) + hwrite(0, 2000) + bytes([HCLOSE, 0, 0]) + ack() + hread(0),
    # regression (a model bug, found by the fuzzer): the guest's first SYN is refused (limit),
    # a later SYN on the same ports with another ISN opens the connection; the host's stream
    # then starts after that SYN, not the first
    "regress_resyn_other_isn": hdr(conns=0) + connect(1) + connect(0) + bytes([RST, 1, 0])
    + seg(0, 0x02, 5, 5000, 0, 0, 0xffff, 0) + ack() + send(0, 1000) + hread(0),
    # DHCP as a client goes through it: DISCOVER (broadcast and unicast replies), REQUEST of
    # the offer, of another server's, of another address (NAK), a renewal by ciaddr (ACK and
    # NAK), then what consomme refuses: RELEASE, no type, bad magic, other hardware, a BOOTREPLY,
    # an option running past the end, a short message
    "dhcp": hdr() + dhcp(1, b"\0\0" + bytes([55, 3, 1, 3, 6])) + dhcp(1, flags=0)
    + dhcp(3, bytes([50, 4]) + struct.pack(">I", GUEST) + bytes([54, 4]) + struct.pack(">I", GW))
    + dhcp(3, bytes([54, 4]) + struct.pack(">I", 0x0a000909))
    + dhcp(3, bytes([50, 4]) + struct.pack(">I", 0x0a000299))
    + dhcp(3, flags=0, ciaddr=GUEST, src=GUEST, dst=GW) + dhcp(3, flags=0, ciaddr=0x0a000277)
    + dhcp(7) + dhcp(None) + dhcp(1, magic=b"\0\0\0\0") + dhcp(1, htype=6) + dhcp(1, op=2)
    + dhcp(1, bytes([12, 40, 1]), end=b"") + dhcp(1, bytes([255]), end=b"\x0c")
    + raw(ipv4(0, 0xffffffff, 17, struct.pack(">HHHH", 68, 67, 20, 0) + b"\1" * 12)),
    # ICMP: echo to the gateway and the DNS address, to elsewhere, other types, a bad
    # checksum, too short; ARP: requests for both, for another address, a reply, other hardware,
    # a gratuitous one; IPv4 options, a fragment, TTL 0
    "icmp_arp": hdr() + arp() + arp(tpa=DNS) + arp(tpa=0x0a000299) + arp(op=2) + arp(hw=6)
    + arp(spa=GW) + arp(spa=GUEST, tpa=GUEST) + icmp(8) + icmp(8, dst=DNS, n=1400)
    + icmp(8, dst=0x0a0002fe) + icmp(0) + icmp(13) + icmp(8, code=1) + icmp(8, fix=1)
    + raw(ipv4(GUEST, GW, 1, b"\x08\0\0", dmac=bytes.fromhex("525400123502")))
    + raw(ipv4(GUEST, GW, 1, b"\x08\0\xf7\xff\0\0\0\0", ihl=6))
    + raw(ipv4(GUEST, GW, 1, b"\x08\0\xf7\xff\0\0\0\0", frag=0x2000))
    + raw(ipv4(GUEST, GW, 1, b"\x08\0\xf7\xff\0\0\0\0", ttl=0))
    + raw(ipv4(GUEST, GW, 99, b"\0" * 8)) + raw(ipv4(0x01020304, GW, 1, b"\0" * 8)),
    # option values and a resolv.conf as users and hosts write them
    "parse": hdr() + b"".join(bytes([PARSE, k, len(t)]) + t for k, t in (
        (0, b"16K:4M"), (0, b"256k"), (1, b"9000"), (1, b"65520"), (5, b"512M"), (5, b"1K"),
        (5, b"0"), (6, b"4096 1048576"), (6, b"0 1"), (6, b"9 8"), (6, b"1 4294967296"),
        (7, b"x"), (7, b"xx"),
        (2, b"# comment\nsearch example.org\nnameserver ::1\nnameserver 10.0.0.53\n"))),
    # NAT rules: slot 1's port denied, the rest allowed; UDP to a denied port; a bad rule
    "policy": hdr() + b"".join(bytes([PARSE, k, len(t)]) + t for k, t in (
        (4, b"10.0.2.2:5002"), (3, b"0.0.0.0/0:1-65535"), (4, b"10.0.2.2/32:5101-5101"),
        (3, b"300.1.2.3/40:0"))) + connect(1) + connect(0) + udp(0, 1, 10),
    # the same traffic over consomme's own transports: QEMU's stream, and a TAP-like fd
    "stream_data": hdr(tr=1, sockbuf=2) + connect() + send(0, 3000) + hwrite(0, 20000) + ack()
    + hread(0) + udp(0, 1, 100) + udp_reply(0, 0, 200),
    "stream_slow_guest": hdr(tr=1, tx=2, qcap=6, slow=True) + connect() + hwrite(0, 40000)
    + bytes([DRAIN, 0]) + ack() + bytes([DRAIN, 0]) + hwrite(0, 30000) + bytes([DRAIN, 0]),
    "tap_data": hdr(tr=2) + connect() + send(0, 3000) + hwrite(0, 9000) + ack() + hread(0)
    + bytes([FIN, 0]),
    # MTU 1500, a guest MSS of 1472 (0x5d: 23 * 64, window scale 5), a queue that takes
    # super-frames: the host's bytes go to the guest in frames of whole 1460-byte segments,
    # then a loss on the same path (RTO, go-back-N, a partial ACK)
    # --stats every way it is written, and consomme's own loop ending on SIGTERM, with a
    # SIGUSR1 dump and a dump left pending by a reader's lock
    "stats_loop": hdr() + connect() + send(0, 500) + hwrite(0, 500) + bytes([STATS, 0])
    + bytes([STATS, 1, STATS, 2, RUN, 1, STATS, 3, RUN, 7]) + hread(0) + udp(0, 1, 10)
    + bytes([RUN, 2]) + clock(60000, 1) + bytes([RUN, 0]) + bytes([RUN, 0x88, RUN, 0x98]),
    # regression (a model bug): a guest queue smaller than one frame said it was writable, and
    # consomme's loop retried the blocked connection for ever
    "regress_loop_writable_small_queue": hdr(qcap=0) + connect(opts=0x5d) + hwrite(0, 3000)
    + bytes([RUN, 0]),
    # the guest breaks its transport in the loop: a frame longer than any, then its end shut
    "stream_broken": hdr(tr=1) + connect() + hwrite(0, 3000) + bytes([RUN, 32, RUN, 64]),
    "tap_broken": hdr(tr=2) + connect() + hwrite(0, 3000) + bytes([RUN, 32 | 64]),
    # the stream transport reached as QEMU does, through consomme's socket (one stale)
    "stream_listen": hdr(tr=1, sockbuf=2, listen=1) + connect() + send(0, 3000)
    + hwrite(0, 20000) + ack() + hread(0) + bytes([RUN, 0]),
    "stream_listen_stale": hdr(tr=1, listen=2) + connect() + hwrite(0, 2000) + bytes([RUN, 1]),
    "tso_data": hdr(tx=2, qcap=8, sockbuf=1) + connect(opts=0x5d) + hwrite(0, 60000) + ack()
    + hwrite(0, 60000) + clock(1100) + ack(0, 1, 3000) + ack() + hread(0),
}


def blob(op, data):
    """VHOST or VIRTQ: the session's bytes behind their length"""
    return bytes([op]) + u16(len(data)) + data


def vu_msg(req, payload=b"", flags=1):
    return struct.pack("<III", req, flags, len(payload)) + payload


def vu_requests(start):
    """QEMU's start of the device (a session: memory, then messages), then every other request
    a front-end may send, well formed or not, and a version consomme does not speak"""
    q = lambda i, v: struct.pack("<II", i, v)
    return start + b"".join((
        vu_msg(15), vu_msg(17), vu_msg(11, q(0, 0)), vu_msg(10, q(0, 0)), vu_msg(18, q(0, 1)),
        vu_msg(14, q(0, 0)), vu_msg(14, q(1, 0), 1 | 1 << 31), vu_msg(8, q(0, 3), 1 | 8),
        vu_msg(8, q(7, 8)), vu_msg(2), vu_msg(16), vu_msg(8, b"\0"), vu_msg(9, b"\0" * 8),
        vu_msg(5, struct.pack("<II", 9, 0)), vu_msg(5, b""), vu_msg(2, struct.pack("<Q", 1 << 63)),
        vu_msg(99, b"", 1 | 8), vu_msg(3), vu_msg(11, q(1, 0)), vu_msg(4), vu_msg(34),
        vu_msg(1, b"", 2)))


def virtq_ring():
    """A ring of 8 (fuzz_vu.h's layout: descriptors, avail, used), two chains taken: one of a
    readable and a writable piece, one through an indirect table."""
    num, mem = 8, bytearray(1024)
    avail, used = 16 * num, (16 * num + 6 + 2 * num + 3) & ~3
    buf = used + 6 + 8 * num + 16
    def desc(i, addr, n, flags, nxt):
        mem[16 * i:16 * i + 16] = struct.pack("<QIHH", 0x0 + addr, n, flags, nxt)
    desc(0, buf, 64, 1, 1)            # NEXT
    desc(1, buf + 64, 64, 2, 0)       # WRITE
    desc(2, buf + 128, 32, 4, 0)      # INDIRECT: a table of two
    mem[buf + 128:buf + 160] = struct.pack("<QIHHQIHH", buf + 192, 16, 1, 1, buf + 208, 16, 2, 0)
    mem[avail:avail + 8] = struct.pack("<HHHH", 0, 2, 0, 2)
    return bytes([3, 3]) + bytes(mem)


def raw_frames(path):
    """A consomme_fuzz seed (flags byte, frames behind 2-byte lengths) as RAW ops."""
    data = open(path, "rb").read()
    flags, data, ops = data[0], data[1:], b""
    while len(data) >= 2:
        n = min(struct.unpack(">H", data[:2])[0], len(data) - 2)
        ops += bytes([RAW, flags & 3]) + u16(n) + data[2:2 + n]
        data = data[2 + n:]
    return ops


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    # every protocol's frame from the frame fuzzer's seeds, each in its own seed
    frames = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "tests",
                          "data", "consomme_fuzz")
    for name in sorted(os.listdir(frames)):
        if name != "stream" and not name.endswith("_fixup"):
            SEEDS["frame_" + name] = hdr() + raw_frames(os.path.join(frames, name))
    vhost = os.path.join(frames, "..", "vhost_user_fuzz", "start_device_arp")
    start = open(vhost, "rb").read()
    # QEMU starting the vhost-user device over the same stack as a TCP connection, twice
    SEEDS["vhost_start_device"] = hdr() + connect() + hwrite(0, 2000) + blob(VHOST, start) \
        + ack() + hread(0) + blob(VHOST, start[:200]) + blob(VIRTQ, virtq_ring())
    sock = lambda end, data: bytes([VHOST_SOCK, end]) + u16(len(data)) + data
    # the same over consomme's socket as QEMU connects to it, with the way it ends
    SEEDS["vhost_sock_start"] = hdr() + sock(0, start) + connect() + hwrite(0, 1000) \
        + sock(1, start[:16386 + 24]) + ack() + sock(3, start) + sock(2, start[:2])
    SEEDS["vhost_requests"] = hdr() + blob(VHOST, vu_requests(start)) \
        + sock(0, vu_requests(start))
    for name, data in SEEDS.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
