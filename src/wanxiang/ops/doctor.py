"""``wanxiang doctor``: what this machine can really run, in lines an operator reads.

``report`` returns the lines and the names of what a configured engine needs but is missing
(``--strict`` turns those into a non-zero exit).
"""

from __future__ import annotations

import shutil
import subprocess

from wanxiang.ops.startup import version_line

# Image formats the PicProcess engine reads and writes, and the libvips operation that does each.
IMAGE_FORMATS = {
    "jpeg": ("jpegload", "jpegsave"),
    "png": ("pngload", "pngsave"),
    "webp": ("webpload", "webpsave"),
    "gif": ("gifload", "gifsave"),
    "heif/avif": ("heifload", "heifsave"),
    "jxl": ("jxlload", "jxlsave"),
    "tiff": ("tiffload", "tiffsave"),
}
# Formats a PicProcess job may be asked for that wanxiang cannot do without them.
REQUIRED_IMAGE = ("jpeg", "png", "webp", "gif")
# Codecs the Animation engine opens: decoders of common inputs, encoders of its outputs.
DECODERS = ("h264", "hevc", "vp9", "mpeg4", "aac")
ENCODERS = {"gif": "gif", "webp": "libwebp_anim"}


def _libvips_lines(missing: list[str]) -> list[str]:
    try:
        import pyvips
    except Exception as exc:  # the wheel's native library may fail to load
        missing.append("libvips")
        return [f"PicProcess: libvips NOT loadable ({type(exc).__name__}: {exc})"]
    version = ".".join(str(pyvips.version(i)) for i in range(3))
    present: list[str] = []
    absent: list[str] = []
    for name, (load, save) in IMAGE_FORMATS.items():
        has = [op for op in (load, save) if _vips_has(pyvips, op)]
        label = name if len(has) == 2 else f"{name} ({'load' if load in has else 'save'} only)" if has else name
        (present if has else absent).append(label)
        if name in REQUIRED_IMAGE and len(has) < 2:
            missing.append(f"libvips {name}")
    lines = [f"PicProcess: libvips {version}; formats: {', '.join(present)}"]
    if absent:
        lines.append(f"PicProcess: formats NOT available: {', '.join(absent)}")
    return lines


def _vips_has(pyvips: object, operation: str) -> bool:
    try:
        return int(pyvips.type_find("VipsOperation", operation)) != 0  # type: ignore[attr-defined]
    except Exception:
        return False


def _pyav_lines(missing: list[str]) -> list[str]:
    try:
        import av
    except Exception as exc:
        missing.append("PyAV")
        return [f"Animation: PyAV NOT importable ({type(exc).__name__}: {exc})"]
    available = set(av.codecs_available)
    decoders = [c for c in DECODERS if c in available]
    encoders = [f"{fmt} ({codec})" for fmt, codec in ENCODERS.items() if codec in available]
    for fmt, codec in ENCODERS.items():
        if codec not in available:
            missing.append(f"FFmpeg {codec} encoder ({fmt})")
    ffmpeg = av.library_versions.get("libavcodec", ())
    return [
        f"Animation: PyAV {av.__version__} (libavcodec {'.'.join(map(str, ffmpeg))}); "
        f"decoders: {', '.join(decoders) or 'none'}; encoders: {', '.join(encoders) or 'none'}"
    ]


def _font_lines() -> list[str]:
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return ["Watermark text: fontconfig's fc-list not found; libvips uses its built-in fonts"]
    try:
        every = subprocess.run([fc_list, "--format", "%{family[0]}\n"], capture_output=True, text=True, timeout=10)
        cjk = subprocess.run([fc_list, ":lang=zh", "--format", "%{family[0]}\n"], capture_output=True, text=True,
                             timeout=10)
    except (OSError, subprocess.SubprocessError) as exc:
        return [f"Watermark text: fc-list failed ({exc})"]
    families = sorted({f for f in every.stdout.splitlines() if f})
    cjk_families = sorted({f for f in cjk.stdout.splitlines() if f})
    return [
        f"Watermark text: {len(families)} font families ({', '.join(families[:5])}{', ...' if len(families) > 5 else ''})",
        f"Watermark text, CJK: {', '.join(cjk_families[:3])}" if cjk_families
        else "Watermark text, CJK: NO font (apt-get install -y fonts-wqy-microhei)",
    ]


def _tool_lines() -> list[str]:
    lines = []
    for tool, use in (("espeak-ng", "speech synthesis (test inputs)"), ("apertium", "Translation (rule-based)")):
        path = shutil.which(tool)
        lines.append(f"{tool}: {path} - {use}" if path else f"{tool}: NOT installed - {use} (make system-deps)")
    return lines


def report() -> tuple[list[str], list[str]]:
    """The lines to print, and what a configured engine needs but is missing."""
    from wanxiang.engines.doctor import report as engine_report

    missing: list[str] = []
    lines = [version_line()]
    lines += _libvips_lines(missing)
    lines += _pyav_lines(missing)
    lines += _font_lines()
    lines += _tool_lines()
    engines = engine_report()
    lines += engines
    missing += [line.split(":")[0] for line in engines if "NOT" in line or "does NOT answer" in line or "missing" in line]
    return lines, missing
