"""Workflows: a topology of nodes run for each object, and the executions (runs) of it.

Pure rules only: the topology check, which nodes follow which, which uploads trigger.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from wanxiang.model.errors import invalid_argument
from wanxiang.model.job import JobState, QueueFamily
from wanxiang.model.notify import notify_target
from wanxiang.model.tree import Tree, child, is_true, text

START, END = "Start", "End"
NAME_RULE = re.compile(r"^[\w\-\u4e00-\u9fff]{1,128}$")


class WorkflowState(StrEnum):
    ACTIVE = "Active"
    PAUSED = "Paused"


@dataclass
class Workflow:
    workflow_id: str
    bucket_id: str
    region: str
    name: str
    state: WorkflowState
    topology: Tree
    create_time: datetime
    update_time: datetime

    @property
    def start_input(self) -> Tree:
        return child(self.topology, "Nodes", START, "Input") or {}


@dataclass
class Execution:
    run_id: str
    workflow_id: str
    workflow_name: str
    bucket_id: str
    region: str
    object_key: str
    state: JobState
    create_time: datetime
    topology: Tree
    batch_id: str = ""
    end_time: datetime | None = None
    cos_headers: list[Tree] = field(default_factory=list)


# Which node types may follow which (CI's table, the part relevant to wanxiang); a type missing
# here may be followed by any node.
SUCCESSORS: dict[str, set[str]] = {
    "Snapshot": {"PicProcess", "SCF", END},
    "SmartCover": {"PicProcess", "SCF", END},
    "Animation": {"SCF", END},
    "PicProcess": {"SCF", END},
    "SpeechRecognition": {"SCF", "Tts", END},
    "Transcode": {
        "Snapshot", "Animation", "SmartCover", "Concat", "VideoMontage", "SDRtoHDR", "VideoProcess", "SCF",
        "Segment", "SpeechRecognition", "VideoEnhance", "MediaInfo", "SegmentVideoBody", END,
    },
    "Segment": {"VideoEnhance", "SegmentVideoBody", END},
    "MediaInfo": {"Condition", END},
    "StreamPackConfig": {"VideoStream"},
    "VideoStream": {"StreamPack"},
    "StreamPack": {END},
}
NODE_TYPES = {
    "Animation", "Snapshot", "SmartCover", "Transcode", "Concat", "VoiceSeparate", "VideoMontage",
    "StreamPackConfig", "VideoStream", "StreamPack", "SDRtoHDR", "VideoProcess", "SCF", "SuperResolution",
    "Segment", "PicProcess", "Tts", "SpeechRecognition", "VideoEnhance", "Condition", "MediaInfo",
    "AIRecognition", "SegmentVideoBody", "HighSpeedHd", "Translation", "WordsGeneralize", "ImageInspect",
}
# The Start/Input element naming the queue each family of node runs on.
# The queue family a node type's jobs run on (the job catalog knows), or None for other nodes.
FamilyOf = Callable[[str], QueueFamily | None]

FAMILY_QUEUE_FIELD: dict[QueueFamily, str] = {
    QueueFamily.MEDIA: "QueueId",
    QueueFamily.PIC: "PicProcessQueueId",
    QueueFamily.ASR: "SpeechRecognitionQueueId",
    QueueFamily.AI: "AIProcessQueueId",
}


def dependencies(topology: Tree) -> dict[str, list[str]]:
    deps = topology.get("Dependencies")
    if not isinstance(deps, dict):
        return {}
    return {name: [s.strip() for s in str(v).split(",") if s.strip()] for name, v in deps.items() if isinstance(v, str)}


def nodes(topology: Tree) -> dict[str, Tree]:
    found = topology.get("Nodes")
    if not isinstance(found, dict):
        return {}
    return {name: node for name, node in found.items() if isinstance(node, dict)}


def node_type(topology: Tree, name: str) -> str:
    return text(nodes(topology).get(name), "Type")


def successors(topology: Tree, name: str) -> list[str]:
    return [s for s in dependencies(topology).get(name, []) if s != END]


def predecessor(topology: Tree, name: str) -> str:
    for source, targets in dependencies(topology).items():
        if name in targets:
            return source
    return START


def validate_topology(topology: Tree | None) -> None:
    """Refuse a topology CI would refuse; each message names the node at fault."""
    if not isinstance(topology, dict):
        raise invalid_argument("MediaWorkflow.Topology is required.")
    all_nodes, deps = nodes(topology), dependencies(topology)
    if START not in all_nodes or text(all_nodes[START], "Type") != START:
        raise invalid_argument("Topology.Nodes needs exactly one Start node of Type Start.")
    for name, node in all_nodes.items():
        _check_node(name, text(node, "Type"))
    if START not in deps:
        raise invalid_argument("Topology.Dependencies.Start is required.")
    for source, targets in deps.items():
        _check_edges(source, targets, all_nodes)
    _check_reachable(all_nodes, deps)
    _check_start_input(all_nodes)


def _check_node(name: str, kind: str) -> None:
    if name == START:
        return
    if kind == START:
        raise invalid_argument(f"Topology has more than one Start node ({name}).")
    if kind not in NODE_TYPES:
        raise invalid_argument(f"Topology node {name}: Type {kind!r} is not a workflow node type.")
    if name == END or not NAME_RULE.match(name):
        raise invalid_argument(f"Topology node {name!r}: a node name is 1-128 letters, digits, - or _ (not End).")


def _check_edges(source: str, targets: list[str], all_nodes: dict[str, Tree]) -> None:
    if source not in all_nodes:
        raise invalid_argument(f"Topology.Dependencies names {source}, which is not in Topology.Nodes.")
    if not targets:
        raise invalid_argument(f"Topology.Dependencies.{source} is empty; end a branch with End.")
    kind = text(all_nodes[source], "Type")
    allowed = SUCCESSORS.get(kind)
    for target in targets:
        if target != END and target not in all_nodes:
            raise invalid_argument(f"Topology.Dependencies.{source} names {target}, which is not in Topology.Nodes.")
        if target == START:
            raise invalid_argument(f"Topology.Dependencies.{source}: nothing may lead back to Start.")
        target_kind = END if target == END else text(all_nodes[target], "Type")
        if allowed is not None and target_kind not in allowed:
            raise invalid_argument(f"Topology: a {kind} node cannot be followed by {target_kind} ({source} -> {target}).")
        if source == START and target == END:
            raise invalid_argument("Topology.Dependencies.Start must name at least one node.")


def _check_reachable(all_nodes: dict[str, Tree], deps: dict[str, list[str]]) -> None:
    seen, stack = {START}, [START]
    parents: dict[str, str] = {}
    while stack:
        current = stack.pop()
        for target in deps.get(current, []):
            if target == END:
                continue
            if target in parents and parents[target] != current:
                raise invalid_argument(f"Topology node {target} has two predecessors; CI nodes have one.")
            parents[target] = current
            if target not in seen:
                seen.add(target)
                stack.append(target)
    unreachable = sorted(set(all_nodes) - seen)
    if unreachable:
        raise invalid_argument(f"Topology nodes not reachable from Start: {', '.join(unreachable)}.")
    missing = sorted(name for name in all_nodes if name not in deps)
    if missing:
        raise invalid_argument(f"Topology.Dependencies has no entry for {', '.join(missing)}.")


def _check_start_input(all_nodes: dict[str, Tree]) -> None:
    # Queue fields are optional: a node whose family queue is not named runs on the bucket's
    # default queue of that family, as the official SDK's own workflow test expects.
    start_input = child(all_nodes[START], "Input") or {}
    if "ObjectPrefix" not in start_input:
        raise invalid_argument("Topology.Nodes.Start.Input.ObjectPrefix is required.")
    exts = text(start_input, "ExtFilter", "CustomExts")
    if exts and len([e for e in exts.split("/") if e]) > 10:
        raise invalid_argument("ExtFilter.CustomExts allows at most 10 extensions.")


def queue_field_for(kind: str, family_of: FamilyOf) -> str:
    family = family_of(kind)
    return FAMILY_QUEUE_FIELD[family] if family is not None else "QueueId"


def notify_enabled(config: Tree, event: str) -> bool:
    """Whether a NotifyConfig asks for ``event``: a target (a Url, or TDMQ's MqName) and the event
    named, unless State is Off (the SDK's own examples send no State at all)."""
    events = {e.strip() for e in text(config, "Event").split(",")}
    return text(config, "State") != "Off" and bool(notify_target(config)) and event in events


# -- upload triggers ------------------------------------------------------------------------------

IMAGE_EXTS = {"jpg", "jpeg", "png", "gif", "bmp", "webp", "tif", "tiff", "heic", "heif", "avif", "ico", "svg"}
VIDEO_EXTS = {"mp4", "mov", "avi", "mkv", "flv", "wmv", "webm", "ts", "m3u8", "mpg", "mpeg", "3gp", "m4v", "rmvb"}
AUDIO_EXTS = {"mp3", "wav", "aac", "flac", "m4a", "ogg", "opus", "amr", "wma", "ac3", "aiff"}


def matches_upload(start_input: Tree, key: str, content_type: str) -> bool:
    """Whether an upload of ``key`` passes ObjectPrefix and ExtFilter."""
    if not key.startswith(text(start_input, "ObjectPrefix")):
        return False
    ext_filter = child(start_input, "ExtFilter")
    if ext_filter is None or text(ext_filter, "State") != "On" or is_true(text(ext_filter, "AllFile")):
        return True
    ext = key.rsplit("/", 1)[-1].rpartition(".")[2].lower() if "." in key.rsplit("/", 1)[-1] else ""
    kinds = [("Image", IMAGE_EXTS, "image/"), ("Video", VIDEO_EXTS, "video/"), ("Audio", AUDIO_EXTS, "audio/")]
    for name, exts, mime in kinds:
        if is_true(text(ext_filter, name)) and (
            ext in exts or (is_true(text(ext_filter, "ContentType")) and content_type.startswith(mime))
        ):
            return True
    if is_true(text(ext_filter, "Custom")):
        custom = {e.strip().lower().lstrip(".") for e in text(ext_filter, "CustomExts").split("/") if e.strip()}
        if ext in custom:
            return True
    return False


def workflow_variables(run_id: str) -> dict[str, str]:
    return {"runid": run_id}
