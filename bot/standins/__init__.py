"""Strict local stand-ins of the services the bot talks to, for the demo, the benchmark and the tests.

The Yunxin sandbox lives with the Yunxin client (`bot/yunxin/sandbox/`), since the bot's own sandbox mode
serves from it; the Slack stand-in is here because only the demo, the benchmark and the tests use it.
"""
