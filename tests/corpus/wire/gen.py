#!/usr/bin/env python3
"""tests/corpus/wire/gen.py — writes the wire corpus for test_envelope.

bad_*.bin are envelopes (or non-envelopes) that proto_env_unpack must refuse
with a clear reason; good_*.bin must decode. Run from anywhere:
    python3 tests/corpus/wire/gen.py
Deterministic (fixed random seed), so outputs are committed beside it.
"""
import os
import random
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def mp(v):
    """Minimal msgpack encoder (no dependency on the msgpack module)."""
    if v is None:
        return b"\xc0"
    if v is True:
        return b"\xc3"
    if v is False:
        return b"\xc2"
    if isinstance(v, int):
        if 0 <= v <= 0x7F:
            return bytes([v])
        if -32 <= v < 0:
            return struct.pack("b", v)
        if v >= 0:
            return b"\xcf" + struct.pack(">Q", v)
        return b"\xd3" + struct.pack(">q", v)
    if isinstance(v, float):
        return b"\xcb" + struct.pack(">d", v)
    if isinstance(v, str):
        return mpstr(v.encode())
    if isinstance(v, bytes):
        return b"\xc4" + bytes([len(v)]) + v if len(v) < 256 else b"\xc6" + struct.pack(">I", len(v)) + v
    if isinstance(v, list):
        return b"\xdd" + struct.pack(">I", len(v)) + b"".join(mp(x) for x in v)
    if isinstance(v, Raw):
        return v.b
    if isinstance(v, (dict, Pairs)):
        items = v.items()
        return b"\xdf" + struct.pack(">I", len(items)) + b"".join(
            (k.b if isinstance(k, Raw) else mp(k)) + mp(x) for k, x in items)
    raise TypeError(v)


def mpstr(b):
    if len(b) < 32:
        return bytes([0xA0 | len(b)]) + b
    if len(b) < 256:
        return b"\xd9" + bytes([len(b)]) + b
    return b"\xdb" + struct.pack(">I", len(b)) + b


class Raw:
    def __init__(self, b):
        self.b = b


class Pairs:
    """An ordered list of key/value pairs (allows duplicates, odd keys)."""

    def __init__(self, pairs):
        self.pairs = pairs

    def items(self):
        return self.pairs


def env(**over):
    e = {"v": 1, "t": "req", "id": 7, "src": "zkubectl-1", "dst": "apiserver",
         "op": "get", "ts": 1764223000000000, "code": 0,
         "body": {"resource": "pods", "namespace": "default", "name": "web"}}
    for k, v in over.items():
        if v is DROP:
            e.pop(k, None)
        else:
            e[k] = v
    return e


DROP = object()


def nest(n):
    return b"\x91" * n + b"\x01"


def cases():
    rnd = random.Random(20261127)
    good = mp(env())
    yield "good_request", good
    yield "good_reply_status", mp(env(t="rep", code=404, body={
        "kind": "Status", "apiVersion": "v1", "status": "Failure", "code": 404}))
    yield "good_event_nil_body", mp(env(t="evt", dst="pods/default/web", op="ADDED", body=None))
    yield "good_unknown_key", mp(env(extra={"future": True}))
    yield "good_body_depth_64", mp(env(body=Raw(nest(64))))
    yield "bad_empty", b""
    for i in range(4):
        yield "bad_random_%d" % i, bytes(rnd.randrange(256) for _ in range(rnd.randrange(1, 200)))
    for cut in (1, 5, 17, len(good) // 2, len(good) - 1):
        yield "bad_truncated_%d" % cut, good[:cut]
    yield "bad_trailing_byte", good + b"\x00"
    yield "bad_not_a_map_array", mp([1, 2, 3])
    yield "bad_not_a_map_string", mp("req")
    yield "bad_not_a_map_int", mp(5)
    yield "bad_nil", b"\xc0"
    yield "bad_version_2", mp(env(v=2))
    yield "bad_version_0", mp(env(v=0))
    yield "bad_version_string", mp(env(v="1"))
    yield "bad_type_unknown", mp(env(t="query"))
    yield "bad_type_int", mp(env(t=1))
    yield "bad_type_long", mp(env(t="x" * 300))
    for k in ("v", "t", "id", "src", "dst", "op", "ts"):
        yield "bad_missing_%s" % k, mp(env(**{k: DROP}))
    yield "bad_id_negative", mp(env(id=-5))
    yield "bad_id_string", mp(env(id="7"))
    yield "bad_id_uint64_huge", mp(env(id=2 ** 64 - 1))
    yield "bad_ts_float", mp(env(ts=1.5))
    yield "bad_code_string", mp(env(code="200"))
    yield "bad_code_range", mp(env(code=70000))
    yield "bad_src_oversized", mp(env(src="a" * 64))
    yield "bad_dst_oversized", mp(env(dst="d" * 256))
    yield "bad_op_oversized", mp(env(op="o" * 32))
    yield "bad_src_nul", mp(env(src="a\0b"))
    yield "bad_src_int", mp(env(src=3))
    yield "bad_src_invalid_utf8", mp(env(src=Raw(b"\xa2\xc3\x28")))
    yield "bad_huge_str_len", b"\x81\xa1v\xdb\xff\xff\xff\xff"
    yield "bad_huge_map_len", b"\xdf\xff\xff\xff\xff\xa1v\x01"
    yield "bad_huge_array_len", mp(env(body=Raw(b"\xdd\x7f\xff\xff\xff\x01")))
    yield "bad_huge_bin_len", mp(env(body=Raw(b"\xc6\xff\xff\xff\xf0")))
    yield "bad_deep_nesting_65", mp(env(body=Raw(nest(65))))
    yield "bad_deep_nesting_100k", mp(env(body=Raw(nest(100000))))
    yield "bad_key_int", mp(Pairs([(Raw(b"\x01"), 1)] + list(env().items())))
    yield "bad_key_nil", mp(Pairs(list(env().items()) + [(Raw(b"\xc0"), 1)]))
    yield "bad_key_map", mp(Pairs([(Raw(b"\x80"), 1)] + list(env().items())))
    yield "bad_duplicate_key", mp(Pairs(list(env().items()) + [("t", "rep")]))
    yield "bad_ext_type", mp(env(body=Raw(b"\xd6\x01\x00\x00\x00\x00")))
    yield "bad_reserved_c1", mp(env(body=Raw(b"\xc1")))
    yield "bad_uint64_in_body", mp(env(body=Raw(b"\xcf\xff\xff\xff\xff\xff\xff\xff\xff")))
    yield "bad_nan_in_body", mp(env(body=float("nan")))
    yield "bad_inf_in_body", mp(env(body=float("inf")))
    yield "bad_bin_not_utf8", mp(env(body=b"\xff\xfe"))


def main():
    for f in os.listdir(HERE):
        if f.endswith(".bin"):
            os.unlink(os.path.join(HERE, f))
    n = 0
    for name, data in cases():
        with open(os.path.join(HERE, name + ".bin"), "wb") as f:
            f.write(data)
        n += 1
    print("wrote %d files" % n)


if __name__ == "__main__":
    main()
