"""Hypothesis strategies for the fuzz tests: junk requests of every public RPC, junk images.

`requests(descriptor)` builds a request message from its proto descriptor, field by field: junk
and absurd values (unicode junk, extreme integers, NaN/Inf, unknown enum values, malformed
images and tensors) mixed with valid ones (a real image, known synsets and models), so a good
share of the requests get past the first checks and reach the deeper code.
"""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from hypothesis import strategies as st
from PIL import Image

from cliplens.core.tensors import to_proto
from cliplens.toyworld.examples import load_examples
from cliplens.v1 import common_pb2

F = FieldDescriptor


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_header(width: int, height: int, *, depth: int = 8, color: int = 2,
               idat: bytes | None = None) -> bytes:
    """A PNG with any IHDR (sizes, depth, colour type) and optional pixel data."""
    ihdr = struct.pack(">IIBBBBB", width, height, depth, color, 0, 0, 0)
    body = _chunk(b"IHDR", ihdr) + (_chunk(b"IDAT", idat) if idat is not None else b"")
    return b"\x89PNG\r\n\x1a\n" + body + _chunk(b"IEND", b"")


def bomb(side: int) -> bytes:
    """A tiny PNG that decodes to side x side grey pixels (about 1000:1)."""
    return png_header(side, side, color=0,
                      idat=zlib.compress(b"\x00" * (side + 1) * side, 9))


def encode(img: Image.Image, fmt: str, **kwargs) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format=fmt, **kwargs)
    return buf.getvalue()


REAL = load_examples()[0].image_path.read_bytes()
_RGB = Image.fromarray(np.random.default_rng(0).integers(0, 255, (24, 40, 3), np.uint8))
_FRAMES = [Image.new("RGB", (16, 16), (60 * i, 0, 0)) for i in range(3)]

# Named encoded images: each decodes to RGB or must be refused with INVALID_ARGUMENT.
IMAGES: dict[str, bytes] = {
    "real_png": REAL,
    "jpeg": encode(_RGB, "JPEG"),
    "webp": encode(_RGB, "WEBP"),
    "empty": b"",
    "truncated_png": REAL[: len(REAL) // 3],
    "truncated_jpeg": encode(_RGB, "JPEG")[:150],
    "header_only": png_header(64, 64),
    "zero_sized": png_header(0, 0),
    "zero_width": png_header(0, 32),
    "huge_header": png_header(100_000, 100_000),
    "wide_header": png_header(2**31 - 1, 1),
    "bad_depth": png_header(8, 8, depth=3),
    "junk_idat": png_header(8, 8, idat=b"not zlib at all"),
    "bomb_5000": bomb(5000),
    "grey_16bit": encode(Image.fromarray((np.arange(24 * 40).reshape(24, 40) * 60)
                                         .astype(np.uint16)), "PNG"),
    "rgb_16bit": png_header(6, 6, depth=16, idat=zlib.compress(b"".join(
        b"\x00" + (np.arange(18) * 3000 + r).astype(">u2").tobytes() for r in range(6)))),
    "bilevel": encode(_RGB.convert("1"), "PNG"),
    "palette_alpha": encode(_RGB.convert("RGBA").convert("P"), "PNG", transparency=0),
    "grey_alpha": encode(_RGB.convert("LA"), "PNG"),
    "cmyk_jpeg": encode(_RGB.convert("CMYK"), "JPEG"),
    "animated_png": encode(_FRAMES[0], "PNG", save_all=True, append_images=_FRAMES[1:]),
    "animated_webp": encode(_FRAMES[0], "WEBP", save_all=True, append_images=_FRAMES[1:]),
    "gif": encode(_RGB, "GIF"),
    "bmp": encode(_RGB, "BMP"),
    "tiff": encode(_RGB, "TIFF"),
    "text": "héllo wörld ✓".encode(),
    "one_pixel": encode(Image.new("RGB", (1, 1)), "PNG"),
    "sliver": encode(Image.new("RGB", (3000, 1)), "PNG"),
}

JUNK_TEXT = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["", " ", "\x00", "\u202e\u0645\u0631\u062d\u0628\u0627", "🦜🦜🦜",
                     "a" * 5000, "../../etc/passwd", "'; DROP TABLE banks; --", "%s%n%x",
                     "n" + "9" * 30, "dog.n.99999", "dog.z.01", "..n.01", "\ud7ff\ue000",
                     "e\u0301" * 50]),
)
VALID_TEXT = st.sampled_from(["", "toyworld", "car.n.01", "bird.n.01", "vehicle.n.01",
                              "n02084071", "dog", "a photo of a {}.", "physical", "car",
                              "tree.n.01", "e2e", "fuzz-bank", "a red car", "{}"])
INT64 = st.sampled_from([0, 1, 2, 3, 7, -1, -(2**31), 2**31 - 1, 2**63 - 1, -(2**63)])
UINT64 = st.sampled_from([0, 1, 5, 2**32 - 1, 2**64 - 1])
FLOATS = st.one_of(st.sampled_from([0.0, -0.0, 0.5, 1.0, -1.0, 1e38, -1e38, 1e-45]),
                   st.floats(allow_nan=True, allow_infinity=True, width=32))
BANK_JSON = st.sampled_from([
    '{"car": ["four wheels"]}', "{}", "[]", "null", '{"car": []}', '{"car": [1, 2]}',
    '{"": ["x"]}', '{"car": ["' + "w " * 100 + '"]}', '{"a": ["x"], "a": ["y"]}',
    "{" * 10_000, "[" * 10_000, '{"a":' * 10_000, '{"car": ["\\ud800"]}',
    '{"\\u0000": ["\\u0000"]}', "not json"])


def _tensor() -> st.SearchStrategy:
    dtypes = st.sampled_from([-1, 0, *common_pb2.DataType.values(), 99])
    shapes = st.lists(st.sampled_from([0, 1, 2, 3, 80, -1, 2**31, 2**62]), max_size=4)
    special = st.sampled_from([b"", b"\x00" * 7, np.full(6, np.nan, "<f4").tobytes(),
                               np.array([np.inf, -np.inf, 0, 1], "<f4").tobytes(),
                               np.ones(80 * 80, "<f4").tobytes()])
    return st.builds(lambda d, s, data: common_pb2.Tensor(dtype=d, shape=s, data=data),
                     dtypes, shapes, st.one_of(special, st.binary(max_size=64)))


def _image() -> st.SearchStrategy:
    def mutate(data: bytes, at: int, value: int) -> bytes:
        if not data:
            return data
        at %= len(data)
        return data[:at] + bytes([value]) + data[at + 1:]

    named = st.sampled_from(list(IMAGES.values()))
    flipped = st.builds(mutate, named, st.integers(0, 10_000), st.integers(0, 255))
    cut = st.builds(lambda d, n: d[:n], named, st.integers(0, 400))
    return st.builds(lambda d: common_pb2.Image(data=d),
                     st.one_of(named, named, flipped, cut, st.binary(max_size=64)))


def _scalar(field: FieldDescriptor) -> st.SearchStrategy:
    t = field.type
    if t == F.TYPE_STRING:
        if field.name == "json":
            return st.one_of(BANK_JSON, JUNK_TEXT)
        return st.one_of(VALID_TEXT, VALID_TEXT, JUNK_TEXT)
    if t == F.TYPE_BYTES:
        return st.one_of(st.sampled_from(list(IMAGES.values())), st.binary(max_size=32))
    if t == F.TYPE_BOOL:
        return st.booleans()
    if t in (F.TYPE_FLOAT, F.TYPE_DOUBLE):
        return FLOATS
    if t == F.TYPE_ENUM:
        known = [v.number for v in field.enum_type.values]
        return st.one_of(st.sampled_from(known), st.sampled_from([-1, 99, 2**31 - 1]))
    if t in (F.TYPE_UINT32, F.TYPE_FIXED32):
        return st.sampled_from([0, 1, 3, 10, 100_000, 2**32 - 1])
    if t in (F.TYPE_UINT64, F.TYPE_FIXED64):
        return UINT64
    if t in (F.TYPE_INT32, F.TYPE_SINT32, F.TYPE_SFIXED32):
        return st.sampled_from([0, 1, 2, 3, 10, -1, -(2**31), 2**31 - 1, 100_000])
    return INT64


def _message(descriptor: Descriptor, depth: int) -> st.SearchStrategy:
    if descriptor.full_name == "cliplens.v1.Tensor":
        return _tensor()
    if descriptor.full_name == "cliplens.v1.Image":
        return _image()
    return requests(descriptor, depth=depth + 1)


def _value(field: FieldDescriptor, depth: int) -> st.SearchStrategy:
    if field.type == F.TYPE_MESSAGE:
        return _message(field.message_type, depth)
    return _scalar(field)


def _repeated(field: FieldDescriptor) -> bool:
    flag = getattr(field, "is_repeated", None)
    return flag if isinstance(flag, bool) else field.label == F.LABEL_REPEATED


def _is_map(field: FieldDescriptor) -> bool:
    return field.message_type is not None and field.message_type.GetOptions().map_entry


def _set(msg, field: FieldDescriptor, value) -> None:
    """Put a value drawn by `field_values(field)` into `msg` (replacing what was there)."""
    msg.ClearField(field.name)
    target = getattr(msg, field.name)
    if _is_map(field):
        for k, v in value:
            if field.message_type.fields_by_name["value"].type == F.TYPE_MESSAGE:
                target[k].CopyFrom(v)
            else:
                target[k] = v
    elif _repeated(field):
        if field.type == F.TYPE_MESSAGE:
            for v in value:
                target.add().CopyFrom(v)
        else:
            target.extend(value)
    elif field.type == F.TYPE_MESSAGE:
        target.CopyFrom(value)
    else:
        setattr(msg, field.name, value)


def field_values(field: FieldDescriptor, depth: int = 0) -> st.SearchStrategy:
    """Junk, absurd or valid values for one field (a list for repeated fields)."""
    if _is_map(field):
        key = _scalar(field.message_type.fields_by_name["key"])
        value = _value(field.message_type.fields_by_name["value"], depth)
        return st.lists(st.tuples(key, value), max_size=3)
    if _repeated(field):
        return st.lists(_value(field, depth), max_size=4)
    return _value(field, depth)


def requests(descriptor: Descriptor, *, depth: int = 0) -> st.SearchStrategy:
    """Messages of `descriptor` with each field left unset or filled with junk or valid values."""
    from google.protobuf import message_factory

    cls = message_factory.GetMessageClass(descriptor)

    @st.composite
    def build(draw):
        msg = cls()
        for field in descriptor.fields:
            if depth <= 2 and draw(st.booleans()):
                _set(msg, field, draw(field_values(field, depth)))
        return msg

    return build()


def _img(data: bytes = REAL) -> common_pb2.Image:
    return common_pb2.Image(data=data)


def valid_requests() -> dict[str, object]:
    """A valid request of every public RPC ("Service/Method"): the seeds the mutations start
    from, so that junk lands in one or two fields of a request that is otherwise fine."""
    from cliplens.v1 import embedding_pb2 as e
    from cliplens.v1 import explanation_pb2 as x
    from cliplens.v1 import gateway_pb2 as g
    from cliplens.v1 import lexicon_pb2 as lx

    box = common_pb2.Box(x0=0, y0=0, x1=40, y1=40)
    example = load_examples()[0]
    mask = to_proto(example.mask(0))
    x0, y0, x1, y1 = example.objects[0]["box"]
    labels = ["car.n.01", "bird.n.01"]
    return {
        "EmbeddingService/ListModels": e.ListModelsRequest(),
        "EmbeddingService/GetModel": e.GetModelRequest(model="toyworld"),
        "EmbeddingService/EncodeImages": e.EncodeImagesRequest(images=[_img()], normalize=True),
        "EmbeddingService/EncodeTexts": e.EncodeTextsRequest(texts=["a car", ""]),
        "EmbeddingService/EncodeDense": e.EncodeDenseRequest(
            images=[_img()], mode=e.DENSE_MODE_SURGERY, include_keys=True),
        "EmbeddingService/EncodeRegions": e.EncodeRegionsRequest(
            image=_img(), windows=[box] * 3, chunk_size=2),
        "LexiconService/GetSynset": lx.GetSynsetRequest(id="dog.n.01"),
        "LexiconService/GetSynsets": lx.GetSynsetsRequest(ids=["dog.n.01", "n02958343"]),
        "LexiconService/SearchSynsets": lx.SearchSynsetsRequest(lemma="dogs", limit=3),
        "LexiconService/ExpandSynset": lx.ExpandSynsetRequest(id="vehicle.n.01", max_depth=1),
        "LexiconService/GetLowestCommonHypernyms": lx.GetLowestCommonHypernymsRequest(
            ids=["car.n.01", "bicycle.n.01"]),
        "LexiconService/ListDictionaries": lx.ListDictionariesRequest(),
        "LexiconService/GetDictionary": lx.GetDictionaryRequest(id="toyworld"),
        "LexiconService/CreateDictionary": lx.CreateDictionaryRequest(
            name="fuzz", words=["kite", "tent"]),
        "LexiconService/GetSubtree": lx.GetSubtreeRequest(dictionary_id="toyworld",
                                                          synset="vehicle.n.01"),
        "LexiconService/ListBanks": lx.ListBanksRequest(),
        "LexiconService/GetBank": lx.GetBankRequest(id="fuzz-bank"),
        "LexiconService/ImportBank": lx.ImportBankRequest(
            name="fuzz-bank", json='{"car": ["four wheels"], "tree": ["leaves"]}',
            replace=True),
        "LexiconService/GenerateBank": lx.GenerateBankRequest(
            name="fuzz-wordnet", synsets=["car.n.01"], replace=True),
        "LexiconService/DeleteBank": lx.DeleteBankRequest(id="fuzz-wordnet"),
        "ExplanationService/Classify": x.ClassifyRequest(images=[_img()], labels=labels),
        "ExplanationService/Rank": x.RankRequest(images=[_img()], texts=["a car", "a fish"],
                                                 top_k=1),
        "ExplanationService/Surgery": x.SurgeryRequest(images=[_img()], labels=labels,
                                                       point_prompts=True),
        "ExplanationService/Convis": x.ConvisRequest(image=_img(), concepts=["vehicle.n.01"],
                                                     mode=x.CONVIS_MODE_DENSE),
        "ExplanationService/ScoreOod": x.ScoreOodRequest(images=[_img()],
                                                         concept="vehicle.n.01"),
        "ExplanationService/MutualKnowledge": x.MutualKnowledgeRequest(
            image=_img(), labels=["car.n.01", "tree.n.01", "bird.n.01"]),
        "ExplanationService/MutualKnowledgeDataset": x.MutualKnowledgeDatasetRequest(
            images=[_img(), _img()], labels=labels),
        "ExplanationService/EvaluateLocalization": x.EvaluateLocalizationRequest(
            samples=[x.LocalizationSample(image=_img(), concept="car.n.01", mask=mask,
                                          boxes=[common_pb2.Box(x0=x0, y0=y0, x1=x1, y1=y1)])],
            methods=[x.MAP_METHOD_SURGERY], labels=labels),
        "GatewayService/GetStatus": g.GetStatusRequest(),
    }


def mutations(seed) -> st.SearchStrategy:
    """`seed` with one to three fields (at any depth) replaced by junk or absurd values."""
    @st.composite
    def build(draw):
        msg = type(seed)()
        msg.CopyFrom(seed)
        for _ in range(draw(st.integers(1, 3))):
            target = msg
            # Walk down into a set sub-message now and then, to mutate nested fields too.
            while True:
                nested = [f for f in target.DESCRIPTOR.fields
                          if f.type == F.TYPE_MESSAGE and not _is_map(f)
                          and f.message_type.full_name not in ("cliplens.v1.Tensor",
                                                               "cliplens.v1.Image")
                          and (len(getattr(target, f.name)) if _repeated(f)
                               else target.HasField(f.name))]
                if not nested or not draw(st.booleans()):
                    break
                field = draw(st.sampled_from(nested))
                value = getattr(target, field.name)
                target = value[draw(st.integers(0, len(value) - 1))] if _repeated(field) \
                    else value
            if not target.DESCRIPTOR.fields:
                break
            field = draw(st.sampled_from(list(target.DESCRIPTOR.fields)))
            if draw(st.integers(0, 4)) == 0:
                target.ClearField(field.name)
            else:
                _set(target, field, draw(field_values(field, 1)))
        return msg

    return build()
