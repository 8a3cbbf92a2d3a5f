from __future__ import annotations

import hashlib

import pytest
from pic_folder_io import FolderIO
from pic_samples import decode, photo_jpeg

from wanxiang.engines.base import EngineJob
from wanxiang.engines.pic import PicProcessEngine
from wanxiang.model.errors import JobFailure


def _job(rule: str, is_pic_info: str = "false") -> EngineJob:
    return EngineJob(
        job_id="c0123456789abcdef0123456789abcdef",
        tag="PicProcess",
        bucket_id="examplebucket-1250000000",
        region="ap-chongqing",
        input={"Object": "photos/in.jpg"},
        operation={
            "PicProcess": {"IsPicInfo": is_pic_info, "ProcessRule": rule},
            "Output": {"Bucket": "outbucket-1250000000", "Region": "ap-chongqing", "Object": "out/small.png"},
        },
    )


def test_a_picprocess_job_writes_the_processed_object_and_reports_it(folder_io: FolderIO) -> None:
    source = photo_jpeg(640, 480)
    folder_io.put("photos/in.jpg", source)
    result = PicProcessEngine().run(_job("imageMogr2/thumbnail/320x/format/png", "true"), folder_io)

    written = (folder_io.root / "outbucket-1250000000" / "out/small.png").read_bytes()
    image = decode(written)
    assert (image.width, image.height) == (320, 240)
    upload = result["PicProcessResult"]["UploadResult"]
    obj = upload["ProcessResults"]["Object"]
    assert obj == {
        "Key": "out/small.png",
        "Location": "outbucket-1250000000.cos.ap-chongqing.myqcloud.com/out/small.png",
        "Format": "PNG",
        "Width": "320",
        "Height": "240",
        "Size": str(len(written)),
        "Quality": "100",
        "ETag": f'"{hashlib.md5(written).hexdigest()}"',
    }
    original = upload["OriginalInfo"]
    assert original["Key"] == "photos/in.jpg"
    assert original["Location"] == "examplebucket-1250000000.cos.ap-chongqing.myqcloud.com/photos/in.jpg"
    assert original["ETag"] == f'"{hashlib.md5(source).hexdigest()}"'
    info = original["ImageInfo"]
    assert (info["Format"], info["Width"], info["Height"]) == ("JPEG", "640", "480")
    assert info["Orientation"] in ("0", "1")  # no EXIF, or EXIF saying "upright"
    assert 88 <= int(info["Quality"]) <= 92  # saved at 90
    assert info["Ave"].startswith("0x") and len(info["Ave"]) == 8
    assert folder_io.progress_seen[-1] == 100


def test_original_info_is_left_out_unless_asked_for(folder_io: FolderIO) -> None:
    folder_io.put("photos/in.jpg", photo_jpeg(64, 48))
    result = PicProcessEngine().run(_job("imageMogr2/rotate/90"), folder_io)
    upload = result["PicProcessResult"]["UploadResult"]
    assert "OriginalInfo" not in upload
    assert upload["ProcessResults"]["Object"]["Width"] == "48"


def test_a_missing_input_fails_the_job(folder_io: FolderIO) -> None:
    with pytest.raises(JobFailure) as caught:
        PicProcessEngine().run(_job("imageMogr2/rotate/90"), folder_io)
    assert caught.value.code == "InputObjectNotExist"


def test_a_style_rule_fails_the_job_with_invalid_argument(folder_io: FolderIO) -> None:
    folder_io.put("photos/in.jpg", photo_jpeg(64, 48))
    with pytest.raises(JobFailure) as caught:
        PicProcessEngine().run(_job("style/small"), folder_io)
    assert caught.value.code == "InvalidArgument"
