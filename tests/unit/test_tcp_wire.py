# TCP segment codec: build/parse round trips, options, and every malformation a Drop.
import struct
from morgana.net import Drop
from morgana.net import tcp_wire as w

SRC = 0xC0A80001
DST = 0xC0A80002


def _drop_reason(buf, src=SRC, dst=DST):
    try:
        w.parse(src, dst, buf)
    except Drop as e:
        return e.reason
    return None


def _fix_csum(seg, src=SRC, dst=DST):
    from morgana.net.checksum import csum, pseudo_header_sum
    seg = bytearray(seg)
    seg[16] = seg[17] = 0
    c = ~csum(seg, pseudo_header_sum(src, dst, 6, len(seg))) & 0xFFFF
    seg[16] = c >> 8
    seg[17] = c & 255
    return seg


def test_roundtrip_data_segment():
    seg = w.build(SRC, DST, 1234, 80, 0xFFFFFFF0, 42, w.ACK | w.PSH, 5000, b"", b"hello")
    s = w.parse(SRC, DST, seg)
    assert (s.sport, s.dport, s.seq, s.ack, s.wnd) == (1234, 80, 0xFFFFFFF0, 42, 5000)
    assert s.flags == w.ACK | w.PSH
    assert bytes(s.data) == b"hello"
    assert s.seglen() == 5
    assert s.mss is None and s.wscale is None


def test_syn_options_roundtrip():
    seg = w.build(SRC, DST, 1, 2, 100, 0, w.SYN, 65535, w.syn_options(1460, 7))
    assert len(seg) == 28
    s = w.parse(SRC, DST, seg)
    assert s.mss == 1460 and s.wscale == 7
    assert s.seglen() == 1
    s2 = w.parse(SRC, DST, w.build(SRC, DST, 1, 2, 100, 0, w.SYN | w.FIN, 0,
                                   w.syn_options(536, None)))
    assert s2.mss == 536 and s2.wscale is None and s2.seglen() == 2


def test_checksum_covers_pseudo_header():
    seg = w.build(SRC, DST, 1, 2, 3, 4, w.ACK, 5, b"", b"xyz")
    assert _drop_reason(seg) is None
    assert _drop_reason(seg, dst=DST + 1) == "tcp_bad_csum"
    bad = bytearray(seg)
    bad[-1] ^= 1
    assert _drop_reason(bad) == "tcp_bad_csum"


def test_truncated_and_bad_offset():
    seg = w.build(SRC, DST, 1, 2, 3, 4, w.ACK, 5)
    assert _drop_reason(seg[:19]) == "tcp_truncated"
    assert _drop_reason(b"") == "tcp_truncated"
    short = bytearray(seg)
    short[12] = 4 << 4  # data offset below 5 words
    assert _drop_reason(_fix_csum(short)) == "tcp_bad_offset"
    long_ = bytearray(seg)
    long_[12] = 15 << 4  # header longer than the segment
    assert _drop_reason(_fix_csum(long_)) == "tcp_bad_offset"


def test_zero_ports_dropped():
    seg = w.build(SRC, DST, 0, 2, 3, 4, w.SYN, 5)
    assert _drop_reason(seg) == "tcp_bad_port"


def _with_opts(opts):
    seg = bytearray(w.build(SRC, DST, 1, 2, 3, 4, w.SYN, 5, opts))
    return _fix_csum(seg)


def test_bogus_options():
    # option length 0, 1, past the end, wrong fixed lengths: all dropped, never raised
    for opts in (b"\x02\x00\x00\x00", b"\x02\x01\x00\x00", b"\x08\x0a\x00\x00",
                 b"\x02\x03\x05\x00", b"\x03\x04\x01\x01", b"\x01\x01\x01\x05",
                 b"\x04\x03\x00\x00"):
        assert _drop_reason(_with_opts(opts)) == "tcp_bad_option", opts


def test_unknown_and_padding_options():
    opts = b"\x01\x1e\x04\xaa\xbb\x02\x04\x05\xb4\x00\x00\x00"  # NOP, kind 30, MSS, EOL
    s = w.parse(SRC, DST, _with_opts(opts))
    assert s.mss == 1460
    s = w.parse(SRC, DST, _with_opts(b"\x03\x03\x20\x00"))  # shift 32 clamps to 14
    assert s.wscale == 14
    s = w.parse(SRC, DST, _with_opts(b"\x00\x02\x00\x00"))  # nothing after EOL counts
    assert s.mss is None


def test_reserved_bits_ignored_in_flags():
    seg = bytearray(w.build(SRC, DST, 1, 2, 3, 4, w.ACK, 5))
    seg[13] |= 0xC0  # ECE/CWR
    seg[12] |= 0x0F  # reserved
    s = w.parse(SRC, DST, _fix_csum(seg))
    assert s.flags == w.ACK


def test_header_fields_big_endian():
    seg = w.build(SRC, DST, 0x1234, 0x5678, 0x01020304, 0x05060708, w.ACK, 0x9ABC)
    f = struct.unpack(">HHIIBBH", bytes(seg[:16]))
    assert f == (0x1234, 0x5678, 0x01020304, 0x05060708, 0x50, w.ACK, 0x9ABC)
