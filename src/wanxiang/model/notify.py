"""Where a notification goes: an http(s) URL, or a message-queue target (``CallBackType`` /
``NotifyConfig.Type`` TDMQ), both written into the callback outbox as one target string.

A TDMQ target is ``tdmq://<MqRegion>/<Queue|Topic>/<MqName>``; the deliverer publishes it to
the RabbitMQ broker named by ``--mq-url``: Queue → a durable queue of that name (through the
default exchange), Topic → a durable topic exchange of that name, routing key = the event name
(``TaskFinish``, ``WorkflowFinish``).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote, unquote, urlsplit

from wanxiang.model.errors import CIError, invalid_argument
from wanxiang.model.tree import Tree, text

TDMQ_SCHEME = "tdmq"
MQ_MODES = ("Queue", "Topic")
# AMQP short strings: queue and exchange names are at most 255 bytes.
MAX_MQ_NAME_BYTES = 255
MQ_URL_FLAG = "--mq-url amqp://…"


@dataclass(frozen=True)
class MqTarget:
    region: str
    mode: str  # Queue or Topic
    name: str

    def url(self) -> str:
        return f"{TDMQ_SCHEME}://{quote(self.region or '-', safe='')}/{self.mode}/{quote(self.name, safe='')}"


def parse_mq_target(url: str) -> MqTarget | None:
    """The MQ target an outbox target string names, or None when it is not one (an http URL)."""
    parts = urlsplit(url)
    if parts.scheme != TDMQ_SCHEME:
        return None
    mode, _, name = parts.path.lstrip("/").partition("/")
    region = unquote(parts.netloc)
    return MqTarget("" if region == "-" else region, mode, unquote(name))


def mq_name_problem(name: str) -> str | None:
    """What is wrong with a queue or exchange name, or None."""
    if not name:
        return "is required"
    if len(name.encode()) > MAX_MQ_NAME_BYTES:
        return f"may be at most {MAX_MQ_NAME_BYTES} bytes"
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in name):
        return "may not contain control characters"
    if name.startswith("amq."):
        return "may not start with amq. (RabbitMQ reserves those names)"
    return None


def mq_target_of(config: Tree) -> MqTarget:
    """The MQ target of a checked NotifyConfig or CallBackMqConfig tree (MqMode defaults to Queue)."""
    mode = text(config, "MqMode").strip() or "Queue"
    return MqTarget(text(config, "MqRegion").strip(), mode, text(config, "MqName").strip())


def notify_target(config: Tree) -> str:
    """The outbox target of a NotifyConfig (queue or workflow): its Url, or the MQ target of
    Type TDMQ; '' when it names none."""
    if text(config, "Type").strip() == "TDMQ":
        return mq_target_of(config).url() if text(config, "MqName").strip() else ""
    return text(config, "Url").strip()


MAX_MQ_REGION = 64


def parse_mq_config(config: Tree | None, field: str) -> MqTarget:
    """The MQ target of a CallBackMqConfig or a TDMQ NotifyConfig, its shape checked; the error
    names ``field``."""
    config = config or {}
    mode = text(config, "MqMode").strip() or "Queue"
    if mode not in MQ_MODES:
        raise invalid_argument(f"{field}.MqMode must be Queue or Topic, not {mode!r}.")
    name = text(config, "MqName").strip()
    problem = mq_name_problem(name)
    if problem:
        raise invalid_argument(f"{field}.MqName {problem}.")
    region = text(config, "MqRegion").strip()
    if len(region) > MAX_MQ_REGION or any(not (ch.isalnum() or ch in "-_") for ch in region):
        raise invalid_argument(f"{field}.MqRegion must be a region name (letters, digits, - and _), not {region!r}.")
    return MqTarget(region, mode, name)


def mq_unavailable(field: str) -> CIError:
    return invalid_argument(
        f"{field} TDMQ needs a message broker: start the server with {MQ_URL_FLAG} (RabbitMQ), or use Url."
    )
