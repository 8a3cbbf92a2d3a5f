"""Steps that change tone, not geometry: blur, brightness, contrast, sharpen, grayscale.

They work on the colour bands only; alpha passes through untouched.
"""

from __future__ import annotations

from collections.abc import Callable

import pyvips

from wanxiang.engines.pic.operations import Blur, Bright, Contrast, Grayscale, Sharpen


def _on_colour(image: pyvips.Image, step: Callable[[pyvips.Image], pyvips.Image]) -> pyvips.Image:
    if not image.hasalpha():
        return step(image).cast(image.format)
    colour = image.extract_band(0, n=image.bands - 1)
    alpha = image.extract_band(image.bands - 1)
    return step(colour).cast(image.format).bandjoin(alpha)


def blur(image: pyvips.Image, op: Blur) -> pyvips.Image:
    # the radius bounds the mask CI would use; min_ampl makes libvips' mask about that wide
    min_ampl = max(0.001, min(0.5, pow(2.718281828, -(op.radius**2) / (2 * op.sigma**2))))
    return _on_colour(image, lambda c: c.gaussblur(op.sigma, min_ampl=min_ampl))


def bright(image: pyvips.Image, op: Bright) -> pyvips.Image:
    # -100..100 maps to a shift of the whole 0..255 range
    return _on_colour(image, lambda c: c + op.value * 2.55)


def contrast(image: pyvips.Image, op: Contrast) -> pyvips.Image:
    # symmetric: +50 doubles distances from mid-grey, -50 halves them
    factor = 2 ** (op.value / 50)
    return _on_colour(image, lambda c: (c - 128) * factor + 128)


def sharpen(image: pyvips.Image, op: Sharpen) -> pyvips.Image:
    # CI recommends 70; map it to a moderate unsharp mask and scale the strength linearly
    def step(colour: pyvips.Image) -> pyvips.Image:
        interpretation = colour.interpretation
        srgb = colour if interpretation in ("srgb", "b-w") else colour.colourspace("srgb")
        return srgb.sharpen(sigma=1.0, m1=0, m2=op.value / 10, x1=2, y2=20, y3=40)

    return _on_colour(image, step)


def grayscale(image: pyvips.Image, op: Grayscale) -> pyvips.Image:
    if not op.enabled:
        return image
    # stay three-band sRGB so later steps (watermarks, pad colours) see the usual layout
    return _on_colour(image, lambda c: c.colourspace("b-w").colourspace("srgb"))
