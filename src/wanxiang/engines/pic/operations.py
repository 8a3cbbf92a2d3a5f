"""The typed operations a ProcessRule is made of: one frozen dataclass per CI operation.

They carry validated values only; what they do to pixels lives in the pipeline's steps.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, TypeAlias

ThumbnailMode = Literal[
    "percent",  # !<S>p
    "percent_width",  # !<S>px
    "percent_height",  # !x<S>p
    "width",  # <W>x
    "height",  # x<H>
    "fit",  # <W>x<H>
    "fill",  # !<W>x<H>r
    "force",  # <W>x<H>!
    "shrink",  # <W>x<H>>
    "enlarge",  # <W>x<H><
    "area",  # <Area>@
]

Gravity = Literal[
    "northwest", "north", "northeast", "west", "center", "east", "southwest", "south", "southeast"
]
GRAVITIES: tuple[str, ...] = (
    "northwest",
    "north",
    "northeast",
    "west",
    "center",
    "east",
    "southwest",
    "south",
    "southeast",
)

OUTPUT_FORMATS: tuple[str, ...] = ("jpg", "png", "webp", "gif", "bmp", "heif", "avif", "yjpeg")


@dataclass(frozen=True)
class Thumbnail:
    mode: ThumbnailMode
    width: float | None = None  # pixels, or a percentage for the percent modes
    height: float | None = None
    area: int | None = None
    pad: bool = False  # with <W>x<H>: centre the result on a W×H canvas
    pad_color: str = "#FFFFFF"


@dataclass(frozen=True)
class Cut:
    width: int
    height: int
    dx: int
    dy: int


@dataclass(frozen=True)
class Crop:
    width: int | None
    height: int | None
    gravity: Gravity = "northwest"
    dx: int = 0
    dy: int = 0


@dataclass(frozen=True)
class SmartCrop:
    width: int
    height: int


@dataclass(frozen=True)
class InscribedCircle:
    radius: int


@dataclass(frozen=True)
class RoundedCorners:
    radius: int


@dataclass(frozen=True)
class Rotate:
    degrees: float  # clockwise


@dataclass(frozen=True)
class AutoOrient:
    pass


@dataclass(frozen=True)
class Flip:
    direction: Literal["vertical", "horizontal"]


@dataclass(frozen=True)
class Format:
    format: str  # one of OUTPUT_FORMATS


@dataclass(frozen=True)
class CompressGif:
    frames: int  # 1 means CI's default of 30


@dataclass(frozen=True)
class Interlace:
    enabled: bool


@dataclass(frozen=True)
class Quality:
    value: int
    kind: Literal["absolute", "relative", "lowest"] = "absolute"
    force: bool = False  # `Q!`: use Q even above the source's quality


@dataclass(frozen=True)
class Blur:
    radius: int
    sigma: float


@dataclass(frozen=True)
class Bright:
    value: int


@dataclass(frozen=True)
class Contrast:
    value: int


@dataclass(frozen=True)
class Sharpen:
    value: int


@dataclass(frozen=True)
class Grayscale:
    enabled: bool


@dataclass(frozen=True)
class Strip:
    pass


@dataclass(frozen=True)
class SizeLimit:
    max_bytes: int
    keep_original: bool = False  # `!`: keep the source when the result is not smaller


@dataclass(frozen=True)
class IgnoreError:
    pass


@dataclass(frozen=True)
class ImageWatermark:
    key: str  # object key of the watermark image in the bucket
    gravity: Gravity = "southeast"
    dx: int = 0
    dy: int = 0
    dissolve: int = 90
    batch: bool = False
    spacing: int = 0
    degree: float = 0
    scatype: int | None = None  # 1 by width, 2 by height, 3 by area
    spcent: int | None = None  # per mille
    blogo: int | None = None  # 1 scale, 2 crop an oversize watermark


@dataclass(frozen=True)
class TextWatermark:
    text: str
    font: str = "sans"
    fontsize: int = 13
    fill: str = "#3D3D3D"
    gravity: Gravity = "southeast"
    dx: int = 0
    dy: int = 0
    dissolve: int = 90
    batch: bool = False
    spacing: int = 0
    degree: float = 0
    shadow: int = 0
    scatype: int | None = None
    spcent: int | None = None


@dataclass(frozen=True)
class Style:
    name: str


Operation: TypeAlias = (
    Thumbnail
    | Cut
    | Crop
    | SmartCrop
    | InscribedCircle
    | RoundedCorners
    | Rotate
    | AutoOrient
    | Flip
    | Format
    | CompressGif
    | Interlace
    | Quality
    | Blur
    | Bright
    | Contrast
    | Sharpen
    | Grayscale
    | Strip
    | SizeLimit
    | IgnoreError
    | ImageWatermark
    | TextWatermark
    | Style
)
