"""The Animation engine turns short generated videos into GIF / WebP animations a user can open and check."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
from animation_media import RED_STEP, FolderIO, animation_job, make_video
from PIL import Image

from wanxiang.engines.animation import AnimationEngine
from wanxiang.model.tree import Tree


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """2 s, 320x240, 25 fps, key frame every 10 frames, with an AAC audio track."""
    return make_video(tmp_path_factory.mktemp("clip") / "in.mp4", audio=True)


@pytest.fixture(scope="module")
def odd_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_video(tmp_path_factory.mktemp("odd") / "odd.mp4", width=321, height=241, seconds=1.0)


def run(tmp_path: Path, video: Path, animation: Tree, key: str = "anim/out.${ext}") -> tuple[Tree, Path]:
    io = FolderIO(tmp_path, video)
    result = AnimationEngine().run(animation_job(animation, key), io)
    return result, io.stored(result["MediaResult"]["OutputFile"]["ObjectName"])


def frames_of(path: Path) -> tuple[Image.Image, list[np.ndarray], list[int]]:
    """The animation's format image (closed; its format, size and info stay readable), its frames
    as RGB arrays, and each frame's duration in ms."""
    with Image.open(path) as image:
        pictures, durations = [], []
        for index in range(getattr(image, "n_frames", 1)):
            image.seek(index)
            image.load()
            durations.append(int(image.info.get("duration", 0)))
            pictures.append(np.asarray(image.convert("RGB"), dtype=np.int16))
    return image, pictures, durations


def image_size(path: Path) -> tuple[int, int]:
    with Image.open(path) as image:
        return image.size


def background_red(picture: np.ndarray) -> float:
    return float(picture[2:20, 2:20, 0].mean())


def test_gif_keeps_every_frame_at_source_size_and_plays_for_the_video_length(
    tmp_path: Path, clip: Path
) -> None:
    _, path = run(tmp_path, clip, {"Container": {"Format": "gif"}})
    image, pictures, durations = frames_of(path)
    assert image.format == "GIF"
    assert image.size == (320, 240)
    assert len(pictures) == 50
    assert sum(durations) == 2000


def test_the_moving_square_makes_every_frame_differ_from_the_one_before(tmp_path: Path, clip: Path) -> None:
    _, path = run(tmp_path, clip, {"Container": {"Format": "gif"}})
    _, pictures, _ = frames_of(path)
    for before, after in zip(pictures, pictures[1:], strict=False):
        changed = np.abs(before - after).max(axis=2) > 60
        assert changed.sum() > 100  # the 40x40 white square moved by 6 px


def test_gif_colours_come_from_the_video_not_a_fixed_palette(tmp_path: Path, clip: Path) -> None:
    _, path = run(tmp_path, clip, {"Container": {"Format": "gif"}})
    _, pictures, _ = frames_of(path)
    background = pictures[0][2:20, 2:20].reshape(-1, 3).mean(axis=0)
    # A web-safe 216-colour table would snap (0, 90, 160) to (0, 102, 153).
    assert np.abs(background - (0, 90, 160)).max() <= 6
    square = pictures[0][240 // 2 - 10 : 240 // 2 + 10, 5:30]
    assert square.min() >= 240


def test_width_alone_scales_an_odd_sized_video_keeping_its_aspect(tmp_path: Path, odd_clip: Path) -> None:
    _, path = run(tmp_path, odd_clip, {"Container": {"Format": "gif"}, "Video": {"Width": "200"}})
    image, pictures, _ = frames_of(path)
    assert image.size == (200, 150)  # 241 * 200 / 321 = 150.2
    assert len(pictures) == 25


def test_height_alone_and_both_sides(tmp_path: Path, odd_clip: Path) -> None:
    _, by_height = run(
        tmp_path, odd_clip, {"Container": {"Format": "gif"}, "Video": {"Height": "128"}}, "h.gif"
    )
    _, both = run(
        tmp_path,
        odd_clip,
        {"Container": {"Format": "gif"}, "Video": {"Width": "300", "Height": "130"}},
        "b.gif",
    )
    assert image_size(by_height) == (170, 128)
    assert image_size(both) == (300, 130)


def test_time_interval_starts_at_the_requested_second_and_stops_after_the_duration(
    tmp_path: Path, clip: Path
) -> None:
    _, path = run(
        tmp_path, clip, {"Container": {"Format": "gif"}, "TimeInterval": {"Start": "1", "Duration": "0.5"}}
    )
    _, pictures, durations = frames_of(path)
    assert len(pictures) == 13  # frames 25..37 (1.00 s .. 1.48 s)
    assert abs(background_red(pictures[0]) - 25 * RED_STEP) <= 6
    assert abs(background_red(pictures[-1]) - 37 * RED_STEP) <= 6
    assert sum(durations) == 13 * 40


@pytest.mark.parametrize(
    ("video", "frames"),
    [
        ({"AnimateFramesPerSecond": "5"}, 10),
        ({"AnimateOnlyKeepKeyFrame": "true"}, 5),  # key frame every 10 of 50 frames
        ({"AnimateTimeIntervalOfFrame": "0.5"}, 4),
        ({"AnimateFramesPerSecond": "5", "AnimateOnlyKeepKeyFrame": "true"}, 10),  # FramesPerSecond wins
        ({"AnimateOnlyKeepKeyFrame": "true", "AnimateTimeIntervalOfFrame": "0.25"}, 5),  # KeyFrame wins
    ],
)
def test_frame_sampling_follows_cis_priority(tmp_path: Path, clip: Path, video: Tree, frames: int) -> None:
    _, path = run(tmp_path, clip, {"Container": {"Format": "gif"}, "Video": video})
    _, pictures, _ = frames_of(path)
    assert len(pictures) == frames


def test_key_frames_are_the_frames_the_video_was_encoded_with_as_key_frames(
    tmp_path: Path, clip: Path
) -> None:
    _, path = run(
        tmp_path, clip, {"Container": {"Format": "gif"}, "Video": {"AnimateOnlyKeepKeyFrame": "true"}}
    )
    _, pictures, _ = frames_of(path)
    reds = [background_red(p) for p in pictures]
    assert [round(r / RED_STEP / 10) * 10 for r in reds] == [0, 10, 20, 30, 40]


def test_sampled_every_half_second_frames_play_at_the_chosen_fps(tmp_path: Path, clip: Path) -> None:
    _, path = run(
        tmp_path,
        clip,
        {"Container": {"Format": "gif"}, "Video": {"AnimateTimeIntervalOfFrame": "0.5", "Fps": "10"}},
    )
    _, pictures, durations = frames_of(path)
    assert durations == [100] * 4
    assert [round(background_red(p) / RED_STEP) for p in pictures] == pytest.approx(
        [0, 12.5, 25, 37.5], abs=1
    )


def test_a_lower_fps_drops_frames_but_keeps_real_time(tmp_path: Path, clip: Path) -> None:
    _, path = run(tmp_path, clip, {"Container": {"Format": "gif"}, "Video": {"Fps": "10"}})
    _, pictures, durations = frames_of(path)
    assert len(pictures) == 20
    assert sum(durations) == 2000


def test_hgif_is_a_gif_of_the_requested_size_with_every_frame(tmp_path: Path, clip: Path) -> None:
    _, path = run(tmp_path, clip, {"Container": {"Format": "hgif"}, "Video": {"Width": "160"}})
    image, pictures, _ = frames_of(path)
    assert image.format == "GIF"
    assert image.size == (160, 120)
    assert len(pictures) == 50
    assert path.suffix == ".gif"


def test_webp_is_an_animated_webp_with_the_sampled_frames(tmp_path: Path, clip: Path) -> None:
    _, path = run(
        tmp_path,
        clip,
        {
            "Container": {"Format": "webp"},
            "Video": {"Quality": "80", "AnimateFramesPerSecond": "5", "Fps": "10"},
        },
    )
    image, pictures, durations = frames_of(path)
    assert path.name == "out.webp"
    assert image.info["loop"] == 0  # plays forever, like a GIF
    assert durations == [100] * 10
    assert image.format == "WEBP"
    assert getattr(image, "is_animated", False)
    assert len(pictures) == 10
    assert np.abs(pictures[0] - pictures[1]).max() > 60


def test_result_names_the_stored_object_with_its_md5_and_describes_the_source(
    tmp_path: Path, clip: Path
) -> None:
    result, path = run(tmp_path, clip, {"Container": {"Format": "gif"}}, key="gifs/${JobId}.${EXT}")
    output = result["MediaResult"]["OutputFile"]
    assert output["ObjectName"] == "gifs/j" + "0" * 32 + ".gif"
    assert output["Bucket"] == "out-1250000000"
    assert output["Region"] == "ap-guangzhou"
    assert output["Md5Info"] == {
        "Md5": hashlib.md5(path.read_bytes()).hexdigest(),
        "ObjectName": output["ObjectName"],
    }
    info = result["MediaInfo"]
    assert info["Format"]["NumStream"] == "2"
    assert info["Format"]["Size"] == str(clip.stat().st_size)
    assert float(info["Format"]["Duration"]) == pytest.approx(2.0, abs=0.1)
    video = info["Stream"]["Video"][0]
    assert (video["Width"], video["Height"], video["CodecName"], video["AvgFps"]) == (
        "320",
        "240",
        "h264",
        "25/1",
    )
    assert info["Stream"]["Audio"][0]["CodecName"] == "aac"


def test_progress_is_reported_and_reaches_100(tmp_path: Path, clip: Path) -> None:
    io = FolderIO(tmp_path, clip)
    AnimationEngine().run(animation_job({"Container": {"Format": "gif"}}), io)
    assert io.percents == sorted(io.percents)
    assert len(io.percents) >= 5
    assert io.percents[-1] == 100


def test_a_rotated_phone_video_comes_out_upright(tmp_path: Path) -> None:
    video = make_video(tmp_path / "rot.mp4", seconds=0.4, rotation=90)
    result, path = run(tmp_path, video, {"Container": {"Format": "gif"}})
    image, pictures, _ = frames_of(path)
    assert image.size == (240, 320)
    # The square starts at the coded picture's left edge, mid-height; turned a quarter counter-clockwise
    # (the display matrix's sense, as ffmpeg applies it) that edge is the bottom, mid-width.
    white = np.argwhere(pictures[0].min(axis=2) > 230)
    assert white[:, 0].min() >= 270 and white[:, 0].max() == 319
    assert 90 <= white[:, 1].mean() <= 150
    assert result["MediaInfo"]["Stream"]["Video"][0]["Rotation"] == "270.000000"
