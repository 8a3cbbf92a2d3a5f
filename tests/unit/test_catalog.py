"""The catalog lists every Tag once; reading it loads no media or language library."""

from __future__ import annotations

import subprocess
import sys

from wanxiang.engines import catalog
from wanxiang.model.job import QueueFamily


def test_reading_the_catalog_loads_no_heavy_library() -> None:
    probe = (
        "import sys; from wanxiang.engines import catalog; "
        "[(s.family, s.template) for s in catalog.BUILTIN]; "
        "print(sorted(m for m in ('pyvips', 'av', 'jieba', 'pocketsphinx', 'docx') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_each_builtin_tag_has_its_family_and_an_engine_for_that_tag() -> None:
    families = {spec.tag: catalog.family_of(spec.tag) for spec in catalog.BUILTIN}
    assert families == {
        "PicProcess": QueueFamily.PIC,
        "Animation": QueueFamily.MEDIA,
        "Translation": QueueFamily.AI,
        "SpeechRecognition": QueueFamily.ASR,
        "WordsGeneralize": QueueFamily.AI,
        "ImageInspect": QueueFamily.MEDIA,
    }
    for spec in catalog.BUILTIN:
        engine = catalog.engine(spec.tag)
        assert engine is not None and engine.tag == spec.tag


def test_family_list_paths_default_to_their_tag() -> None:
    assert catalog.default_tag("pic_jobs") == "PicProcess"
    assert catalog.default_tag("asr_jobs") == "SpeechRecognition"
    assert catalog.default_tag("jobs") is None
