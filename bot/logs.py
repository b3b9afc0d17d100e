"""Logging: one line per record, as JSON for log pipelines or as text for people (`LOG_FORMAT`).

JSON: every record on stderr (the bot's, the audit's, uvicorn's, Bolt's) is one object with `time`,
`level`, `logger` and `message`, the record's own fields (a trace ID, a reference) at the top level,
and a traceback as the field `exception`. An audit record's fields are the object's fields.

Text: `time level logger message key=value …`. Control characters in a message or a field are escaped
and a traceback's lines are indented, so no text from a request or from Yunxin can begin a line that
reads as a record of its own.

Either way a message longer than MESSAGE_MAX characters is cut, saying how much was left out (audit
records are bounded where they are made).
"""

from __future__ import annotations

import json
import logging
import math
import os
import sys
from datetime import UTC, datetime
from json.encoder import encode_basestring as _json_string  # a str as JSON, as the encoder writes it
from typing import Any, ClassVar, Literal, TextIO

from pydantic_core import PydanticSerializationError, to_json
from pythonjsonlogger.json import JsonFormatter

LogFormat = Literal["auto", "json", "text"]
MESSAGE_MAX = 8000

# The attributes every LogRecord has; anything else on a record is a field the caller added (extra=).
_STANDARD = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "taskName", "color_message"}
# Control characters, and the Unicode line and paragraph separators, escaped as \n, \x1b, \u2028 …
_ESCAPES = {code: f"\\x{code:02x}" for code in [*range(32), 127, 0x85]} | {
    ord("\n"): "\\n",
    ord("\r"): "\\r",
    ord("\t"): "\\t",
    0x2028: "\\u2028",
    0x2029: "\\u2029",
}
# json.dumps(value, ensure_ascii=False, default=str, separators=(",", ":")), made once: json.dumps would make
# its encoder anew each call. `json_text` falls back on it.
_ENCODER = json.JSONEncoder(ensure_ascii=False, default=str, separators=(",", ":"))


def json_text(value: Any) -> str:
    """`value` as compact JSON text, non-ASCII characters as they are: pydantic-core's writer, a value JSON has
    no form for as its str() unless pydantic-core has one (a datetime in ISO 8601, bytes as text, a set as a
    list). An audit line is written in a third of the instructions json's C encoder takes (its own check
    for cycles and its item lists cost most of them). Text UTF-8 cannot carry (a lone surrogate) and a
    cycle are json's to write or refuse."""
    try:
        return to_json(value, fallback=str).decode()
    except (PydanticSerializationError, ValueError):
        return _ENCODER.encode(value)


def _json_serializer(value: Any, **_json_dumps_options: Any) -> str:
    """`json_text`, taking the json.dumps options python-json-logger passes (this formatter sets them to
    what `json_text` does anyway)."""
    return json_text(value)


class AuditLine(dict[str, Any]):
    """An audit record: `audit_log.info(AuditLine(...))`. Its fields are the JSON object's fields; as text
    (and in `record.getMessage()`) it is one line of JSON."""

    def __str__(self) -> str:
        return json_text(self)

    def fields(self) -> dict[str, Any]:
        """The JSON line's fields: the event as its message, then the record's own."""
        return {"message": str(self.get("event", "audit")), **self}


def bounded(text: str, limit: int = MESSAGE_MAX) -> str:
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… ({len(text) - limit} more characters)"


def one_line(text: str) -> str:
    """`text` with every control character escaped, so it cannot end the line it is written on."""
    # Each character _ESCAPES maps is unprintable, so printable text is left as it is; isprintable is one
    # pass in C, translate a dictionary look-up a character.
    return text if text.isprintable() else text.translate(_ESCAPES)


def _fields(record: logging.LogRecord) -> dict[str, Any]:
    if _STANDARD.issuperset(record.__dict__):  # no extras, as most records: found without a look at each
        return {}
    return {key: value for key, value in record.__dict__.items() if key not in _STANDARD}


class TextFormatter(logging.Formatter):
    """`2026-12-01 12:00:00,000 INFO bot.slack.app message key=value`, one line a record (tracebacks
    indented below it)."""

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        # An audit line is bounded where it is made (and must stay whole JSON); anything else is cut here.
        message = one_line(message if isinstance(record.msg, AuditLine) else bounded(message))
        extra = "".join(f" {key}={one_line(bounded(json_text(value), 500))}" for key, value in _fields(record).items())
        line = f"{self.formatTime(record)} {record.levelname} {record.name} {message}{extra}"
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            line += "\n" + "\n".join("    " + one_line(part) for part in record.exc_text.splitlines())
        return line


class BotJsonFormatter(JsonFormatter):
    """python-json-logger's formatter with the bot's field names, bounded messages and audit records
    spread at the top level.

    A record without a traceback or a stack (every audit line, every request's access line) is written
    by `_plain_format`, which lays the object out exactly as python-json-logger does for this configuration
    (a test holds the two to the same text): the library's general path costs about as much CPU as the
    rest of a command's logging put together."""

    _RENAMED: ClassVar[dict[str, str]] = {"levelname": "level", "name": "logger", "exc_info": "exception"}

    def __init__(self) -> None:
        super().__init__(
            "%(levelname)s %(name)s %(message)s",
            rename_fields=dict(self._RENAMED),
            timestamp="time",
            json_ensure_ascii=False,
            json_default=str,
            json_serializer=_json_serializer,
            reserved_attrs=sorted(_STANDARD - {"levelname", "name", "message"}),
        )
        # The last whole second a record was made in, and its date and time of day as text. One tuple,
        # replaced whole, so a thread never reads one second's text with another's number.
        self._last_second: tuple[float, str] = (math.nan, "")

    def process_log_record(self, log_data: dict[str, Any]) -> dict[str, Any]:
        message = log_data.get("message")
        if isinstance(message, str):
            log_data["message"] = bounded(message)
        stamp = log_data.get("time")
        if isinstance(stamp, datetime):  # python-json-logger's, as its json_default (str) would write it
            log_data["time"] = str(stamp)
        return log_data

    def format(self, record: logging.LogRecord) -> str:
        if record.exc_info or record.exc_text or record.stack_info:
            return self.library_format(record)
        return self._plain_format(record)

    def library_format(self, record: logging.LogRecord) -> str:
        """The record as python-json-logger writes it (an audit line spread at the top level)."""
        if isinstance(record.msg, AuditLine):  # a copy: other handlers still read the record as it was
            fields = record.msg.fields()
            record = logging.makeLogRecord({**record.__dict__, "msg": fields, "args": ()})
        return super().format(record)

    def _plain_format(self, record: logging.LogRecord) -> str:
        # python-json-logger's order: the format's fields, the logged dict's, the record's extras, the time.
        fields: dict[str, Any]
        if isinstance(record.msg, AuditLine):  # the record itself is left as it was, for other handlers
            fields, message = record.msg.fields(), ""
        elif isinstance(record.msg, dict):
            fields, message = dict(record.msg), ""
            record.message = message
        else:
            fields, message = {}, record.getMessage()
            record.message = message
        # Whether the record has extras at all: a third of the cost of looking at each attribute in turn.
        has_extras = not _STANDARD.issuperset(record.__dict__)
        if not fields and not has_extras:
            try:  # a message and nothing else (every access line), written as the encoder would
                return (
                    f'{self.prefix}{{"level":{_json_string(record.levelname)},'
                    f'"logger":{_json_string(record.name)},"message":{_json_string(bounded(message))},'
                    f'"time":"{self.time_text(record.created)}"}}'
                )
            except TypeError:  # a level or logger name that is not a string: the encoder's to write
                pass
        renamed = self._RENAMED
        log_data: dict[str, Any] = {"level": record.levelname, "logger": record.name, "message": message}
        if renamed.keys().isdisjoint(fields):
            log_data.update(fields)
        else:
            for key, value in fields.items():
                log_data[renamed.get(key, key)] = value
        if has_extras:
            for key, value in record.__dict__.items():
                if key not in _STANDARD and not key.startswith("_"):
                    log_data[renamed.get(key, key)] = value
        log_data["time"] = self.time_text(record.created)
        return self.prefix + json_text(self.process_log_record(log_data))

    def time_text(self, created: float) -> str:
        """`str(datetime.fromtimestamp(created, tz=UTC))`, the text python-json-logger's `time` is encoded as,
        without a datetime for every record (about a sixth of an access line's CPU): records come many a second,
        so the date and time of day are kept for the last second and only the microseconds are new."""
        if type(created) is float:  # as every LogRecord has it
            fraction, second = math.modf(created)
            last_second, second_text = self._last_second
            if second == last_second:
                # datetime's own rounding (to the nearest, half to even); a time that rounds up into
                # the next second, or is before 1970 (a negative fraction), is left to datetime.
                micro = round(fraction * 1e6)
                if 0 < micro < 1_000_000:
                    return f"{second_text}.{micro:06d}+00:00"
                if micro == 0:
                    return f"{second_text}+00:00"
            elif created >= 0:  # then fromtimestamp(second) is a valid time whenever fromtimestamp(created) is
                text = str(datetime.fromtimestamp(created, tz=UTC))
                whole = datetime.fromtimestamp(second, tz=UTC).replace(tzinfo=None)
                self._last_second = (second, whole.isoformat(" "))
                return text
        return str(datetime.fromtimestamp(created, tz=UTC))


class LineHandler(logging.StreamHandler[TextIO]):
    """StreamHandler writing each record as one write of its line, flushed straight after: the same
    bytes and flushes, without StreamHandler.flush taking the handler's lock a second time (emit runs
    under it already, from Handler.handle), which cost a twentieth of an access line."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record) + self.terminator
            stream = self.stream
            stream.write(line)
            stream.flush()  # each line, as it is written: the process can be killed at any moment
        except RecursionError:  # as StreamHandler.emit: a handler must not swallow it
            raise
        except Exception:
            self.handleError(record)


def resolve_format(log_format: LogFormat) -> Literal["json", "text"]:
    """`auto`: JSON unless stderr is a terminal (a person reading)."""
    if log_format == "auto":
        return "text" if sys.stderr.isatty() else "json"
    return log_format


def configure_logging(level: str = "INFO", log_format: LogFormat = "text") -> None:
    """Every record of the process to stderr, in one format: the root logger's handler, which uvicorn's
    loggers (configured by uvicorn before the app starts) are made to use too."""
    handler = LineHandler(sys.stderr)
    handler.setFormatter(BotJsonFormatter() if resolve_format(log_format) == "json" else TextFormatter())
    logging.basicConfig(level=level, handlers=[handler], force=True)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
    # No line shows the caller's file and line, its thread or its process, so they are not looked up for
    # each record (the logging HOWTO's "Optimization"): a fifth of the CPU an audit line costs.
    logging._srcfile = None
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    # httpx logs every request line at INFO; the bot's own logs say what matters.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("slack_bolt").setLevel(max(logging.getLevelName(level), logging.INFO))


def report_startup_error(message: str) -> None:
    """A start-up failure in one line: a log record once logging is set up, `error: …` on stderr before
    (unless LOG_FORMAT asks for JSON, when settings could not even be read)."""
    root = logging.getLogger()
    configured = any(isinstance(h.formatter, BotJsonFormatter | TextFormatter) for h in root.handlers)
    if not configured and resolve_format(_env_format()) == "json":
        configure_logging("INFO", "json")
        configured = True
    if configured and any(isinstance(h.formatter, BotJsonFormatter) for h in root.handlers):
        logging.getLogger("bot").critical(message)
    else:
        print(f"error: {message}", file=sys.stderr)


def _env_format() -> LogFormat:
    value = os.environ.get("LOG_FORMAT", "auto").strip().lower()
    return value if value in ("auto", "json", "text") else "text"  # type: ignore[return-value]
