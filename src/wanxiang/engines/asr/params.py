"""Submit-time checks of SpeechRecognition params (light: no recogniser is imported)."""

from __future__ import annotations

from wanxiang.model.errors import invalid_argument
from wanxiang.model.tree import Tree, child, text

ENGINE_MODEL_TYPES = frozenset(
    ["8k_zh", "8k_zh_s", "8k_en", "16k_zh", "16k_zh_video", "16k_en", "16k_ca", "16k_ja", "16k_zh_edu", "16k_en_edu", "16k_zh_medical", "16k_th", "16k_zh_dialect"]
)
UNSUPPORTED_TYPE = "UnsupportedEngineModelType"
_ENUMS: dict[str, frozenset[str]] = {
    "ChannelNum": frozenset({"1", "2"}),
    "ResTextFormat": frozenset({"0", "1", "2"}),
    "FilterDirty": frozenset({"0", "1", "2"}),
    "FilterModal": frozenset({"0", "1", "2"}),
    "FilterPunc": frozenset({"0", "1", "2"}),
    "ConvertNumMode": frozenset({"0", "1", "3"}),
    "SpeakerDiarization": frozenset({"0", "1"}),
    "OutputFileType": frozenset({"txt", "srt"}),
}


def validate_speech_recognition(operation: Tree, input: Tree) -> None:
    """Submit-time checks of Input (Object or Url) and the SpeechRecognition enums.

    A job that names a TemplateId may carry no inline parameters: then only Input is checked.
    """
    if not text(input, "Object") and not text(input, "Url"):
        raise invalid_argument("Input.Object or Input.Url is required for SpeechRecognition.")
    params = child(operation, "SpeechRecognition")
    if params is None:
        if not text(operation, "TemplateId"):
            raise invalid_argument("Operation.SpeechRecognition or Operation.TemplateId is required.")
        return
    model_type = text(params, "EngineModelType")
    if model_type not in ENGINE_MODEL_TYPES:
        raise invalid_argument(f"EngineModelType {model_type!r} is not one of {sorted(ENGINE_MODEL_TYPES)}.")
    for name, allowed in _ENUMS.items():
        value = text(params, name)
        if value and value not in allowed:
            raise invalid_argument(f"{name} must be one of {sorted(allowed)}, not {value!r}.")
    speakers = text(params, "SpeakerNumber")
    if speakers and not (speakers.isascii() and speakers.isdigit() and 0 <= int(speakers) <= 10):
        raise invalid_argument("SpeakerNumber must be 0 to 10.")
