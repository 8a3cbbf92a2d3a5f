"""CI features wanxiang knows of but does not implement: they are refused with 501 NotImplemented,
naming the feature, rather than mistaken for bad input or answered as if they had worked."""

from __future__ import annotations

from wanxiang.model.errors import CIError

# Job Tags of CI (media, AI, document and file processing). A Tag here that has an engine in the
# catalog runs as usual; the rest are refused by name.
CI_JOB_TAGS = frozenset({
    "Transcode", "Snapshot", "Concat", "SmartCover", "VoiceSeparate", "VideoMontage", "DigitalWatermark",
    "ExtractDigitalWatermark", "VideoProcess", "SDRtoHDR", "SuperResolution", "Segment", "VideoTag", "Tts",
    "NoiseReduction", "StreamExtract", "QualityEstimate", "SoundHound", "VideoEnhance", "SegmentVideoBody",
    "VideoTargetRec", "DocProcess", "FileHashCode", "FileCompress", "FileUncompress",
})


def not_implemented(feature: str) -> CIError:
    return CIError(501, "NotImplemented", f"{feature} is not implemented by wanxiang.")


def unknown_tag_error(tag: str, supported: str, what: str = "Tag") -> CIError | None:
    """501 for a CI Tag wanxiang lacks; None for a Tag CI does not have (the caller's 400)."""
    if tag in CI_JOB_TAGS:
        return not_implemented(f"{what} {tag} (supported: {supported})")
    return None
