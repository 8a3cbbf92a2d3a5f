"""The PicProcess engine: one ProcessRule applied to the job's input, one output object."""

from __future__ import annotations

import hashlib

from wanxiang.engines.base import EngineJob, JobIO, StoredObject
from wanxiang.engines.pic.decode import DEFAULT_LIMITS, PixelLimits, probe
from wanxiang.engines.pic.info import CI_FORMAT_NAMES, jpeg_quality, source_average_colour
from wanxiang.engines.pic.pipeline import ProcessedImage, process_image
from wanxiang.engines.pic.plan import planned_operations
from wanxiang.model.errors import JobFailure
from wanxiang.model.tree import Tree, is_true, text


class PicProcessEngine:
    tag = "PicProcess"

    def __init__(self, limits: PixelLimits = DEFAULT_LIMITS) -> None:
        self.limits = limits

    def run(self, job: EngineJob, io: JobIO) -> Tree:
        rule = text(job.operation, "PicProcess", "ProcessRule").strip()
        if not rule:
            raise JobFailure("InvalidArgument", "PicProcess/ProcessRule is required")
        output_key = text(job.operation, "Output", "Object").strip()
        if not output_key:
            raise JobFailure("InvalidArgument", "Output/Object is required")
        output_bucket = text(job.operation, "Output", "Bucket").strip() or None
        source = io.input_path()  # read by libvips from the file: no copy of the bytes in Python
        io.progress(10)
        planned = planned_operations(job.operation)
        result = process_image(
            source, rule, read_object=io.read_object, limits=self.limits, parsed=planned,
            between=lambda: io.progress(10),  # a cancelled job stops between operations
        )
        io.progress(80)
        stored = io.write_object(output_key, result.data, result.content_type, bucket=output_bucket)
        upload: Tree = {}
        if is_true(text(job.operation, "PicProcess", "IsPicInfo")):
            upload["OriginalInfo"] = original_info(source.read_bytes(), job.bucket_id, job.region, text(job.input, "Object"))
        upload["ProcessResults"] = {"Object": process_result_object(stored, result)}
        io.progress(100)
        return {"PicProcessResult": {"UploadResult": upload}}


def process_result_object(stored: StoredObject, result: ProcessedImage) -> Tree:
    """One ``ProcessResults/Object`` of an UploadResult."""
    return {
        "Key": stored.key,
        "Location": stored.location,
        "Format": CI_FORMAT_NAMES.get(result.format, result.format.upper()),
        "Width": str(result.width),
        "Height": str(result.height),
        "Size": str(len(result.data)),
        "Quality": _quality_text(result),
        "ETag": stored.etag,
    }


def original_info(data: bytes, bucket_id: str, region: str, key: str) -> Tree:
    """OriginalInfo of the image ``data`` stored at ``key``: where it lives and what its header
    and pixels say."""
    source = probe(data)
    ave = source_average_colour(data, source)
    quality = jpeg_quality(data) if source.format == "jpg" else None
    return {
        "Key": key,
        "Location": f"{bucket_id}.cos.{region}.myqcloud.com/{key}",
        "ETag": f'"{hashlib.md5(data).hexdigest()}"',
        "ImageInfo": {
            "Format": CI_FORMAT_NAMES.get(source.format, source.format.upper()),
            "Width": str(source.width),
            "Height": str(source.height),
            "Quality": str(quality if quality is not None else 100),
            "Ave": ave,
            "Orientation": str(source.orientation),
        },
    }


def _quality_text(result: ProcessedImage) -> str:
    # lossless outputs have no quality setting; CI reports them as full quality
    return str(result.quality if result.quality is not None else 100)
