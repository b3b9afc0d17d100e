"""The built-in Yunxin sandbox: the emulator (`server.py`) and its invented sample data (`samples.py`)."""

from .samples import SAMPLE_CONVERSATIONS, SAMPLE_IDS
from .server import NOT_FOUND_CODE, SandboxApp, create_sandbox_app, sandbox_transport

__all__ = [
    "NOT_FOUND_CODE",
    "SAMPLE_CONVERSATIONS",
    "SAMPLE_IDS",
    "SandboxApp",
    "create_sandbox_app",
    "sandbox_transport",
]
