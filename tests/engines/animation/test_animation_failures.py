"""Bad inputs and bad parameters fail with the CI codes a user can act on."""

from __future__ import annotations

from pathlib import Path

import pytest
from animation_media import FolderIO, animation_job, make_tone, make_video

from wanxiang.engines.animation import AnimationEngine, validate_animation
from wanxiang.model.errors import CIError, JobFailure
from wanxiang.model.tree import Tree


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_video(tmp_path_factory.mktemp("clip") / "in.mp4", seconds=1.0)


def failure(tmp_path: Path, source: Path, animation: Tree) -> JobFailure:
    with pytest.raises(JobFailure) as caught:
        AnimationEngine().run(animation_job(animation), FolderIO(tmp_path, source))
    return caught.value


def test_a_text_file_is_not_a_video(tmp_path: Path) -> None:
    text = tmp_path / "notes.mp4"
    text.write_text("these are not the frames you are looking for\n" * 20)
    assert failure(tmp_path, text, {"Container": {"Format": "gif"}}).code == "InvalidInput"


def test_an_audio_only_file_has_no_video_to_animate(tmp_path: Path) -> None:
    tone = make_tone(tmp_path / "tone.wav")
    error = failure(tmp_path, tone, {"Container": {"Format": "gif"}})
    assert error.code == "UnsupportedMedia"
    assert "video" in error.message


def test_a_start_past_the_end_of_the_video_fails(tmp_path: Path, clip: Path) -> None:
    error = failure(tmp_path, clip, {"Container": {"Format": "gif"}, "TimeInterval": {"Start": "5"}})
    assert error.code == "InvalidArgument"
    assert "Start" in error.message


def test_a_width_over_4096_fails_the_job(tmp_path: Path, clip: Path) -> None:
    error = failure(tmp_path, clip, {"Container": {"Format": "gif"}, "Video": {"Width": "5000"}})
    assert error.code == "InvalidArgument"
    assert "Width" in error.message


def test_a_height_that_makes_the_width_pass_4096_fails_the_job(tmp_path: Path, clip: Path) -> None:
    # 320x240 at Height 4000 would be 5333 px wide.
    error = failure(tmp_path, clip, {"Container": {"Format": "gif"}, "Video": {"Height": "4000"}})
    assert error.code == "InvalidArgument"


@pytest.mark.parametrize(
    ("animation", "field"),
    [
        ({"Container": {"Format": "mp4"}}, "Animation.Container.Format"),
        ({}, "Animation.Container.Format"),
        (
            {"Container": {"Format": "gif"}, "Video": {"Width": "127"}},
            "Animation.Video.Width must be in [128, 4096]",
        ),
        (
            {"Container": {"Format": "gif"}, "Video": {"Height": "4097"}},
            "Animation.Video.Height must be in [128, 4096]",
        ),
        ({"Container": {"Format": "gif"}, "Video": {"Fps": "0"}}, "Animation.Video.Fps must be in (0, 60]"),
        ({"Container": {"Format": "gif"}, "Video": {"Fps": "61"}}, "Animation.Video.Fps must be in (0, 60]"),
        (
            {"Container": {"Format": "webp"}, "Video": {"Quality": "100"}},
            "Animation.Video.Quality must be in [1, 100)",
        ),
        ({"Container": {"Format": "webp"}, "Video": {"Quality": "0.5"}}, "Animation.Video.Quality"),
        ({"Container": {"Format": "gif"}, "TimeInterval": {"Start": "-1"}}, "Animation.TimeInterval.Start"),
        (
            {"Container": {"Format": "gif"}, "TimeInterval": {"Duration": "-2"}},
            "Animation.TimeInterval.Duration",
        ),
        (
            {"Container": {"Format": "gif"}, "Video": {"Width": "wide"}},
            "Animation.Video.Width must be a number",
        ),
        (
            {"Container": {"Format": "gif"}, "Video": {"AnimateFramesPerSecond": "0"}},
            "AnimateFramesPerSecond",
        ),
        (
            {
                "Container": {"Format": "gif"},
                "Video": {"AnimateTimeIntervalOfFrame": "2"},
                "TimeInterval": {"Duration": "1"},
            },
            "AnimateTimeIntervalOfFrame must be less than Animation.TimeInterval.Duration",
        ),
    ],
)
def test_submit_time_validation_names_the_bad_field(animation: Tree, field: str) -> None:
    with pytest.raises(CIError) as caught:
        validate_animation(animation)
    assert caught.value.code == "InvalidArgument"
    assert caught.value.status == 400
    assert field in caught.value.message


def test_valid_parameters_pass_validation() -> None:
    validate_animation(
        {
            "Container": {"Format": "HGIF"},
            "Video": {"Codec": "gif", "Width": "128", "Height": "4096", "Fps": "60", "Quality": "99.5"},
            "TimeInterval": {"Start": "0", "Duration": "10"},
        }
    )


def test_bad_parameters_that_slip_past_submit_fail_the_job(tmp_path: Path, clip: Path) -> None:
    assert failure(tmp_path, clip, {"Container": {"Format": "avi"}}).code == "InvalidArgument"
