"""Serving the explorer: on the loopback address by default, a free port unless one is asked for.

``serve(...)`` runs until Ctrl-C (``initlab explore``); ``Running(...)`` serves from a background
thread for as long as a ``with`` block lasts (the browser test and the benchmark use it). Another
address than the loopback one is served only when asked, with a plain warning: anyone who can
reach it on the network can use the page (and the machine's cores).
"""
from __future__ import annotations

import asyncio
import ipaddress
import logging
import os
import socket
import sys
import threading
import webbrowser
from collections.abc import Callable, Sequence
from typing import Any

from .._validation import InitlabError, check_int
from .page import TITLE, build_page

LOOPBACK = "127.0.0.1"


def is_loopback(address: str) -> bool:
    """127.0.0.0/8, ::1 and "localhost" stay on this machine."""
    if address == "localhost":
        return True
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


def check_address(address: Any) -> str:
    if not isinstance(address, str) or not address:
        raise InitlabError(f"The 'address' parameter must be an IP address or host name such as 127.0.0.1. Got {address!r} instead.",
                           param="address")
    return address


def exposure_warning(address: str) -> str | None:
    """What a person must be told before serving on `address` (None for the loopback address)."""
    if is_loopback(address):
        return None
    return (f"serving on {address}, not the loopback address: anyone on the network who can reach this machine "
            "can use the explorer (and make it train on its cores). Stop it with Ctrl-C.")


def free_port(address: str) -> int:
    """A port nobody listens on now (the OS picks it)."""
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.bind((address, 0))
        return int(s.getsockname()[1])


def _origins(address: str, port: int) -> list[str]:
    """The pages allowed to open the websocket (Bokeh compares the page's host:port, IPv6 in brackets):
    the served address, its loopback names, or for 0.0.0.0 / :: this machine's own names and addresses
    — never "*", which would let any web page the user visits drive the server."""
    if address in ("0.0.0.0", "::"):
        names = {LOOPBACK, "localhost", *machine_addresses()}
    else:
        names = {address, "localhost", LOOPBACK} if is_loopback(address) else {address}
    return sorted(f"{_host(n)}:{port}" for n in names)


def machine_addresses() -> set[str]:
    """This machine's host name, its full name and the addresses they resolve to."""
    names = {socket.gethostname(), socket.getfqdn()}
    found = set(names)
    for name in names:
        try:
            found |= {str(info[4][0]) for info in socket.getaddrinfo(name, None)}
        except OSError:  # a name that does not resolve: keep the name
            pass
    return {n.split("%")[0] for n in found if n}  # an IPv6 scope (fe80::1%eth0) is no part of a page's host


class OneLine(logging.Filter):
    """Bokeh refuses a message whose value its model cannot hold (a string for a slider: only a hand-made
    request sends one; the model keeps its value) and logs it with a traceback: one line instead. Only
    Bokeh's own property-validation errors; any other error keeps its traceback (it would be a bug)."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, ValueError) and str(error).startswith("failed to validate"):
            record.msg, record.args = f"refused a message from the page: {error}", ()
            record.exc_info = record.exc_text = None
        return True


def quiet_refusals() -> None:
    """OneLine on Bokeh's message handler (once)."""
    handler = logging.getLogger("bokeh.server.protocol_handler")
    if not any(isinstance(f, OneLine) for f in handler.filters):
        handler.addFilter(OneLine())


def _server(address: str, port: int, sweeps: Sequence[str | os.PathLike[str]], loop: Any) -> Any:
    import panel as pn

    quiet_refusals()

    return pn.serve({"/": lambda: build_page(sweeps)}, address=address, port=port, websocket_origin=_origins(address, port),
                    show=False, start=False, loop=loop, title=TITLE, verbose=False)


def _host(name: str) -> str:
    """A host as a URL (and a page's origin) writes it: an IPv6 address in brackets."""
    return f"[{name}]" if ":" in name else name


def url(address: str, port: int) -> str:
    return f"http://{_host(address)}:{port}/"


def serve(address: str = LOOPBACK, port: int = 0, open_browser: bool = False,
          sweeps: Sequence[str | os.PathLike[str]] = (), say: Callable[[str], None] = print,
          warn: Callable[[str], None] = lambda line: print(line, file=sys.stderr)) -> None:
    """Serve the explorer until Ctrl-C (a normal end: "stopped", exit code 0): `port` 0 picks a free one;
    the URL is said first."""
    from tornado.ioloop import IOLoop

    address, port = check_address(address), check_int("port", port, low=0, high=65536)
    port = port or free_port(address)
    warning = exposure_warning(address)
    if warning:
        warn(f"initlab: warning: {warning}")
    loop = IOLoop.current()
    server = _server(address, port, sweeps, loop)
    server.start()
    say(f"initlab explore: {url(address, port)} (Ctrl-C stops it)")
    if open_browser:
        loop.add_callback(webbrowser.open, url(address, port))
    try:
        loop.start()  # until Ctrl-C: Bokeh's server stops the loop on SIGINT, and this returns
    finally:
        server.stop()
    say("initlab explore: stopped")


class Running:
    """The explorer served from a background thread while the ``with`` block lasts (``.url``)."""

    def __init__(self, sweeps: Sequence[str | os.PathLike[str]] = (), address: str = LOOPBACK, port: int = 0) -> None:
        self.address, self.sweeps = check_address(address), list(sweeps)
        self.port = check_int("port", port, low=0, high=65536) or free_port(address)
        self.url = url(self.address, self.port)
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="initlab-explore", daemon=True)
        self._loop: Any = None
        self._error: BaseException | None = None

    def _run(self) -> None:
        from tornado.ioloop import IOLoop

        asyncio.set_event_loop(asyncio.new_event_loop())
        try:
            self._loop = IOLoop.current()
            server = _server(self.address, self.port, self.sweeps, self._loop)
            server.start()
        except BaseException as exc:  # reported by __enter__
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        self._loop.start()
        server.stop()

    def __enter__(self) -> Running:
        self._thread.start()
        self._ready.wait(60)
        if self._error is not None:
            raise self._error
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._loop is not None:
            self._loop.add_callback(self._loop.stop)
        self._thread.join(10)
