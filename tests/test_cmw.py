"""CMW (RFC 9999 §3) against the examples of draft-ietf-rats-msg-wrap-23 §5 and the CDDL of §6."""

import expat  # noqa: F401

import json

import pytest
from hypothesis import given, settings, strategies as st

from expat.errors import DecodeError, ProtocolError
from expat.reference.attestation import cmw
from expat.reference.attestation.cmw import Collection, Record, Tag

EXAMPLE_MT = "application/vnd.example.rats-conceptual-msg"


def test_cbor_record_example_5_2():
    wire = bytes.fromhex("8219fde7442347da55")
    assert cmw.encode_cbor(Record(64999, bytes.fromhex("2347da55"))) == wire
    assert cmw.decode(wire) == (Record(64999, bytes.fromhex("2347da55")), "cbor")
    assert cmw.sniff(wire) == "cbor-record"


def test_tag_example_5_3_and_tn_formula():
    assert cmw.tn(64999) == 1668612070
    wire = bytes.fromhex("da6374ffe6442347da55")
    t = Tag(1668612070, bytes.fromhex("2347da55"))
    assert cmw.encode_cbor(t) == wire
    assert cmw.decode(wire)[0] == t and t.content_format == 64999
    assert cmw.sniff(wire) == "cbor-tag"
    # RFC 9999 C-Fs 273..276 -> tags listed in DIGEST §4.4
    assert [cmw.tn(cf) for cf in (273, 274, 275, 276)] == [1668547091, 1668547092, 1668547093, 1668547094]
    # RFC 9277 App. B: C-F 0..65024 fill the tag range exactly
    assert cmw.tn(0) == cmw.TN_MIN == 1668546817 and cmw.tn(65024) == cmw.TN_MAX == 1668612095
    with pytest.raises(ValueError):
        cmw.tn(65025)
    for cf in (0, 1, 254, 255, 256, 509, 510, 64999, 65024):
        assert cmw.cf_from_tn(cmw.tn(cf)) == cf
    with pytest.raises(DecodeError):
        cmw.cf_from_tn(cmw.TN_MIN - 1)
    with pytest.raises(DecodeError):
        cmw.cf_from_tn(0x63740101 + 255)  # low byte 255 is never produced by TN()


def test_record_with_ind_example_5_4():
    wire = bytes.fromhex("8374" + b"application/rim+cose".hex() + "4ad28440a044d901f5a040" + "03")
    r = Record("application/rim+cose", bytes.fromhex("d28440a044d901f5a040"), 3)
    assert cmw.encode_cbor(r) == wire
    assert cmw.decode(wire)[0] == r
    assert r.cm_types == ["reference-values", "endorsements"]


def test_json_record_example_5_1():
    wire = f'["{EXAMPLE_MT}","I0faVQ"]'.encode()
    assert cmw.decode(wire) == (Record(EXAMPLE_MT, bytes.fromhex("2347da55")), "json")
    assert cmw.encode_json(Record(EXAMPLE_MT, bytes.fromhex("2347da55"))) == wire


def test_cbor_collection_example_5_5():
    c = Collection({0: Record(64999, bytes.fromhex("2347da55"), 4),
                    1: Tag(1668612070, bytes.fromhex("2347da55")),
                    2: Record("application/eat+jwt", b"...", 8)},
                   "tag:example.com,2024:composite-attester")
    wire = cmw.encode_cbor(c)
    assert wire[0] == 0xA4 and cmw.sniff(wire) == "cbor-collection"
    assert cmw.decode(wire)[0] == c


def test_json_collection_example_5_6():
    text = json.dumps({"__cmwc_t": "tag:example.com,2024:another-composite-attester",
                       "attester A": ["application/eat-ucs+json", "e30K", 4],
                       "attester B": ["application/eat-ucs+cbor", "oA", 4]}).encode()
    c, ser = cmw.decode(text)
    assert ser == "json"
    assert c.ctype == "tag:example.com,2024:another-composite-attester"
    assert c.entries["attester A"] == Record("application/eat-ucs+json", b"{}\n", 4)
    assert c.entries["attester B"] == Record("application/eat-ucs+cbor", b"\xa0", 4)
    assert cmw.decode(cmw.encode_json(c))[0] == c


def test_indefinite_length_record_is_accepted():
    wire = bytes.fromhex("9f19fde7442347da55ff")
    assert cmw.decode(wire)[0] == Record(64999, bytes.fromhex("2347da55"))


def test_media_type_helpers():
    assert cmw.base_media_type(cmw.EVIDENCE_MEDIA_TYPE) == "application/eat+cwt"
    assert cmw.media_type_param(cmw.EAR_MEDIA_TYPE_EAR03, "eat_profile") == "tag:ietf.org,2026:rats/ear#03"
    assert cmw.EAR_MEDIA_TYPE_EAR03.startswith("application/eat-cwt;")
    for mt in (cmw.EVIDENCE_MEDIA_TYPE, cmw.EAR_MEDIA_TYPE_EAR03, cmw.EAR_MEDIA_TYPE_RFC9782, EXAMPLE_MT):
        assert cmw.is_media_type(mt)
    for bad in ("", "application", "application/", "/x", "a/b; x", "a b/c"):
        assert not cmw.is_media_type(bad)


BAD = [
    ("empty", b""),
    ("unknown first byte", b"\x01"),
    ("truncated", bytes.fromhex("8219fde7442347da")),
    ("trailing bytes", bytes.fromhex("8219fde7442347da5500")),
    ("one-element record", bytes.fromhex("8119fde7")),
    ("four-element record", bytes.fromhex("8419fde7442347da550400")),
    ("value is text", bytes.fromhex("8219fde7642347da55")),
    ("C-F wider than 2 bytes", bytes.fromhex("821a0001000041aa")),
    ("negative C-F", bytes.fromhex("822041aa")),
    ("ind zero", bytes.fromhex("8319fde741aa00")),
    ("ind wider than 32 bits", bytes.fromhex("8319fde741aa1b0000000100000000")),
    ("type not a media type", bytes.fromhex("826474657874" + "41aa")),
    ("tag outside TN range", bytes.fromhex("da0000ffe641aa")),
    ("tag over text", bytes.fromhex("da6374ffe661aa")),
    ("empty collection", bytes.fromhex("a0")),
    ("collection with only __cmwc_t", bytes.fromhex("a168" + b"__cmwc_t".hex() + "6a" + b"tag:x,1:yy".hex())),
    ("collection label bytes", bytes.fromhex("a141aa8219fde741aa")),
    ("collection bad __cmwc_t", bytes.fromhex("a268" + b"__cmwc_t".hex() + "6361626300" + "8219fde741aa")),
    ("duplicate collection labels", bytes.fromhex("a2008219fde741aa008219fde741bb")),
    ("JSON padded base64", b'["a/b","I0faVQ=="]'),
    ("JSON standard base64", b'["a/b","+/+/"]'),
    ("JSON integer type", b'[64999,"I0faVQ"]'),
    ("JSON duplicate member", b'{"x":["a/b","AA"],"x":["a/b","AQ"]}'),
    ("JSON leading whitespace", b' ["a/b","AA"]'),
    ("JSON not valid", b'["a/b","AA"'),
    ("JSON ind zero", b'["a/b","AA",0]'),
    ("JSON NaN", b'["a/b","AA",NaN]'),
    ("JSON bad utf-8", b'["a/b","\xff"]'),
    ("JSON empty collection", b"{}"),
    ("JSON non-canonical base64url", b'["a/b","AB"]'),
]


@pytest.mark.parametrize("name,data", BAD, ids=[n for n, _ in BAD])
def test_malformed_is_decode_error(name, data):
    with pytest.raises(DecodeError) as e:
        cmw.decode(data)
    assert e.value.check and e.value.check.startswith(("cmw", "rfc8949"))


def test_depth_cap():
    inner = Record(64999, b"\x00")
    c = inner
    for _ in range(cmw.MAX_DEPTH):
        c = Collection({"x": c})
    assert cmw.decode(cmw.encode_cbor(c))[0] == c
    too_deep = bytes.fromhex("a16178") * (cmw.MAX_DEPTH + 1) + bytes.fromhex("8219fde74100")
    with pytest.raises(DecodeError):
        cmw.decode(too_deep)
    with pytest.raises(DecodeError):
        cmw.encode_cbor(Collection({"x": c}))
    json_deep = b'{"x":' * (cmw.MAX_DEPTH + 1) + b'["a/b","AA"]' + b"}" * (cmw.MAX_DEPTH + 1)
    with pytest.raises(DecodeError):
        cmw.decode(json_deep)


def test_size_limit():
    ok = Record("a/b", bytes(cmw.MAX_CMW_SIZE - 20))
    data = cmw.encode_cbor(ok)
    assert len(data) <= cmw.MAX_CMW_SIZE
    assert cmw.decode(data)[0] == ok
    with pytest.raises(DecodeError) as e:
        cmw.encode_cbor(Record("a/b", bytes(cmw.MAX_CMW_SIZE)))
    assert e.value.check == "cmw-size"
    with pytest.raises(DecodeError):
        cmw.decode(b"\x82" + bytes(cmw.MAX_CMW_SIZE))


def test_encoder_refuses_invalid():
    with pytest.raises(DecodeError):
        cmw.encode_json(Record(64999, b"x"))
    with pytest.raises(DecodeError):
        cmw.encode_json(Tag(cmw.tn(1), b"x"))
    with pytest.raises(DecodeError):
        cmw.encode_cbor(Record("a/b", b"x", 0))
    with pytest.raises(DecodeError):
        cmw.encode_cbor(Collection({}))


def test_single_record():
    r = Record(cmw.EVIDENCE_MEDIA_TYPE, b"x", cmw.IND_EVIDENCE)
    assert cmw.single_record(r, ind=cmw.IND_EVIDENCE) == r
    assert cmw.single_record(Collection({"a": r})) == r
    with pytest.raises(DecodeError):
        cmw.single_record(Record("a/b", b"x", cmw.IND_ATTESTATION_RESULTS), ind=cmw.IND_EVIDENCE)
    with pytest.raises(DecodeError):
        cmw.single_record(Collection({"a": r, "b": r}))


media_types = st.sampled_from([EXAMPLE_MT, "application/eat+cwt", 'application/eat+cwt; eat_profile="tag:a,1:b"'])
records = st.builds(Record, st.one_of(media_types, st.integers(0, 65535)), st.binary(max_size=40),
                    st.one_of(st.none(), st.integers(1, 2**32 - 1)))


@settings(max_examples=60, deadline=None)
@given(records)
def test_record_round_trip(r):
    assert cmw.decode(cmw.encode_cbor(r))[0] == r
    if isinstance(r.type, str) and r.value:
        assert cmw.decode(cmw.encode_json(r))[0] == r


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=64))
def test_arbitrary_bytes_never_crash(data):
    try:
        cmw.decode(data)
    except ProtocolError:
        pass


@settings(max_examples=150, deadline=None)
@given(st.binary(min_size=1, max_size=30))
def test_mutated_record_never_crashes(tail):
    for head in (b"\x82", b"\x83", b"\xa1", b"\xda\x63\x74\xff\xe6", b"[", b"{"):
        try:
            cmw.decode(head + tail)
        except ProtocolError:
            pass


# --- the strict CBOR decoder shared by the attestation modules (RFC 8949) -----------------------

def test_strict_cbor_decoder():
    from cbor2 import CBORTag

    from expat.reference.attestation import cbor
    assert cbor.loads(bytes.fromhex("5f42010243030405ff")) == b"\x01\x02\x03\x04\x05"  # indefinite bstr
    assert cbor.loads(bytes.fromhex("7f61616162ff")) == "ab"
    assert cbor.loads(bytes.fromhex("f93c00")) == 1.0 and cbor.loads(bytes.fromhex("fb3ff8000000000000")) == 1.5
    assert cbor.loads(bytes.fromhex("83f4f5f6")) == [False, True, None]
    assert cbor.loads(bytes.fromhex("c24101")) == CBORTag(2, b"\x01")  # bignum kept as a raw tag
    assert cbor.loads(bytes.fromhex("bf6161f5ff")) == {"a": True}
    assert cbor.loads(bytes.fromhex("3903e7")) == -1000
    for bad in ("1c", "ff", "5f01ff", "7f4161ff", "f800", "f0", "a20000", "a1800000", "62c328", "9f", "1b0000",
                "9a7fffffff", "ba7fffffff"):
        with pytest.raises(DecodeError):
            cbor.loads(bytes.fromhex(bad))
    with pytest.raises(DecodeError):
        cbor.loads(b"\x81" * 20 + b"\x00")
    assert cbor.loads(b"\x81" * 16 + b"\x00") is not None
