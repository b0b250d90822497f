import io

import numpy as np
import pytest
from PIL import Image

from cliplens.core.errors import InvalidArgument
from cliplens.core.images import ImageLimits, decode_image, encode_png


def encoded(img: Image.Image, fmt: str = "PNG", **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format=fmt, **kw)
    return buf.getvalue()


def rgb(w=8, h=6):
    return Image.fromarray(np.arange(w * h * 3, dtype=np.uint8).reshape(h, w, 3))


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP"])
def test_supported_formats_decode_to_rgb(fmt):
    img = decode_image(encoded(rgb(), fmt))
    assert img.mode == "RGB" and img.size == (8, 6)


def test_png_is_lossless():
    src = rgb()
    assert np.array_equal(np.asarray(decode_image(encoded(src))), np.asarray(src))


@pytest.mark.parametrize("data, fragment", [
    (b"", "empty image data"),
    (b"not an image at all", "not a decodable image"),
    (encoded(rgb(), "GIF"), "format GIF not supported"),
    (encoded(rgb(), "BMP"), "format BMP not supported"),
])
def test_bad_input_is_invalid_argument(data, fragment):
    with pytest.raises(InvalidArgument, match=fragment):
        decode_image(data, name="images[0]")


def test_truncated_image():
    data = encoded(Image.fromarray(np.random.default_rng(0).integers(
        0, 255, (64, 64, 3), dtype=np.uint8)))
    with pytest.raises(InvalidArgument, match="images\\[2\\]: corrupt or truncated"):
        decode_image(data[: len(data) // 2], name="images[2]")


def test_limits_on_bytes_and_pixels():
    data = encoded(rgb(100, 100))
    with pytest.raises(InvalidArgument, match="exceeds the limit of 10 bytes"):
        decode_image(data, limits=ImageLimits(max_bytes=10))
    with pytest.raises(InvalidArgument, match="100x100 exceeds the limit of 5000 pixels"):
        decode_image(data, limits=ImageLimits(max_pixels=5000))


def test_decompression_bomb_refused_before_decoding():
    # A 20000 x 20000 grey PNG compresses to a few hundred kB.
    bomb = encoded(Image.new("L", (20000, 20000)), optimize=True)
    with pytest.raises(InvalidArgument, match="exceeds the limit|decompression bomb"):
        decode_image(bomb)


def test_modes_are_converted():
    sixteen = Image.fromarray(np.full((4, 4), 65535, np.uint16))
    assert np.asarray(decode_image(encoded(sixteen)))[0, 0].tolist() == [255, 255, 255]
    rgba = Image.new("RGBA", (4, 4), (255, 0, 0, 0))  # fully transparent: black
    assert np.asarray(decode_image(encoded(rgba)))[0, 0].tolist() == [0, 0, 0]
    pal = rgb().convert("P")
    assert decode_image(encoded(pal)).mode == "RGB"
    cmyk = Image.new("CMYK", (4, 4), (0, 0, 0, 0))
    assert decode_image(encoded(cmyk, "JPEG")).mode == "RGB"


def test_animated_image_gives_first_frame():
    frames = [Image.new("RGB", (4, 4), c) for c in ((255, 0, 0), (0, 255, 0))]
    buf = io.BytesIO()
    frames[0].save(buf, format="PNG", save_all=True, append_images=frames[1:])
    assert np.asarray(decode_image(buf.getvalue()))[0, 0].tolist() == [255, 0, 0]


def test_exif_orientation_is_applied():
    img = rgb(8, 4)
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90
    out = decode_image(encoded(img, "JPEG", exif=exif))
    assert out.size == (4, 8)


def test_encode_png_round_trip():
    a = np.random.default_rng(1).integers(0, 255, (5, 7, 3), dtype=np.uint8)
    assert np.array_equal(np.asarray(decode_image(encode_png(a))), a)
