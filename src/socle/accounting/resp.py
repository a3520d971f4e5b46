"""A lean, pipelined Redis client for the accounting's per-request Lua scripts.

Every request runs two scripts (admit, settle). Through redis-py's asyncio client each EVALSHA
costs ~135-180 µs of CPU (pool and its lock, timeout objects per command, packing and parsing
layers); here it is ~10-25 µs. One connection carries every call: commands go out without waiting
for earlier replies, many are in flight, and replies are matched to callers in order (Redis
answers a connection's commands in the order it received them). The commands issued in one turn of
the event loop leave in one write at the end of it: under load that divides the system calls on
both sides (Redis answers a batch with one write too), for a few µs more when calls come one at a
time. hiredis packs the commands and parses the replies in C.

Each call is bounded by the client's timeout, with a single timer for the whole connection: the
oldest call in flight always has the earliest deadline. A call that times out drops the connection
(as redis-py drops one whose read timed out) and fails the calls behind it, which wait on the same
stalled server; the next call reconnects. Errors are redis-py's exception classes, raised as
redis-py would raise them, so callers handle both clients alike; an error reply (a failing script)
fails its own call only.

URLs are read as redis-py reads them: ``redis://``, ``rediss://`` (TLS, with redis-py's ``ssl_*``
query options and defaults) and ``unix://``; the host, port or socket path, the database
(``/<db>`` or ``?db=``) and the username and password (AUTH) are used. Other query options
(timeouts, pool sizes, RESP3) are not: this client has its own timeout and speaks RESP2.
"""

from __future__ import annotations

import asyncio
import hashlib
import ssl
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any, cast

import hiredis
from redis._parsers import BaseParser
from redis.asyncio.connection import SSLConnection, parse_url
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoScriptError, RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

Arg = str | int | float | bytes

# hiredis' stub types the command as a one-element tuple; it takes any number of items.
_pack = cast(Callable[[tuple[Arg, ...]], bytes], hiredis.pack_command)
_NOT_ENOUGH_DATA = object()
# Timers may fire a little early (uvloop counts in milliseconds): a deadline this close is due.
_TIMER_SLACK = 0.001
_CLOSED_BY_SERVER = "Connection closed by server."


class LuaScript:
    """A script's source and SHA1, which EVALSHA names it by."""

    __slots__ = ("sha", "source")

    def __init__(self, source: str) -> None:
        self.source = source
        self.sha = hashlib.sha1(source.encode(), usedforsecurity=False).hexdigest()


class _Connection(asyncio.Protocol):
    """One connection: a queue of (future, deadline) in the order the commands were sent."""

    def __init__(self, timeout: float, name: str) -> None:
        self._loop = asyncio.get_running_loop()
        self._timeout = timeout
        self._name = name
        # parse_error maps "NOSCRIPT ...", "LOADING ...", "WRONGPASS ..." to redis-py's classes.
        self._reader = hiredis.Reader(
            replyError=BaseParser.parse_error,
            encoding="utf-8",
            notEnoughData=_NOT_ENOUGH_DATA,
        )
        self._waiting: deque[tuple[asyncio.Future[Any], float]] = deque()
        self._transport: asyncio.Transport | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._outgoing: list[bytes] = []
        self.lost = False
        self.closed: asyncio.Future[None] = self._loop.create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses, but have the same methods.
        self._transport = cast(asyncio.Transport, transport)

    def send(self, command: bytes) -> asyncio.Future[Any]:
        """Send one packed command (written at the end of this loop turn); its reply's future."""
        if self.lost or self._transport is None:
            raise RedisConnectionError(_CLOSED_BY_SERVER)
        future = self._loop.create_future()
        deadline = self._loop.time() + self._timeout
        self._waiting.append((future, deadline))
        if not self._outgoing:
            self._loop.call_soon(self._write)
        self._outgoing.append(command)
        if self._timer is None:
            self._timer = self._loop.call_at(deadline, self._check_deadline)
        return future

    def _write(self) -> None:
        outgoing, self._outgoing = self._outgoing, []
        if not self.lost and self._transport is not None:
            self._transport.writelines(outgoing)

    def data_received(self, data: bytes) -> None:
        reader = self._reader
        waiting = self._waiting
        reader.feed(data)
        try:
            while (reply := reader.gets()) is not _NOT_ENOUGH_DATA:
                future, _ = waiting.popleft()
                if future.done():  # its caller gave up (cancelled)
                    continue
                if isinstance(reply, RedisError):
                    future.set_exception(reply)
                else:
                    future.set_result(reply)
        except (hiredis.ProtocolError, IndexError) as exc:
            # Garbage, or a reply nobody asked for: the stream can no longer be matched.
            self.abort(RedisConnectionError, f"Protocol error from {self._name}: {exc!r}")

    def connection_lost(self, exc: Exception | None) -> None:
        self._fail_all(RedisConnectionError, _CLOSED_BY_SERVER if exc is None else f"{exc}")
        if not self.closed.done():
            self.closed.set_result(None)

    def _check_deadline(self) -> None:
        self._timer = None
        if not self._waiting:
            return
        deadline = self._waiting[0][1]
        if deadline - self._loop.time() > _TIMER_SLACK:
            self._timer = self._loop.call_at(deadline, self._check_deadline)
            return
        self.abort(RedisTimeoutError, f"Timeout reading from {self._name}")

    def abort(self, error: type[RedisError], message: str) -> None:
        """Drop the connection now, failing every call in flight with ``error``."""
        self._fail_all(error, message)
        if self._transport is not None:
            self._transport.abort()

    def _fail_all(self, error: type[RedisError], message: str) -> None:
        self.lost = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        waiting, self._waiting = self._waiting, deque()
        for future, _ in waiting:
            if not future.done():
                future.set_exception(error(message))


class RespClient:
    """One pipelined connection to Redis, opened on first use and reopened after a loss."""

    def __init__(
        self,
        *,
        host: str = "localhost",
        port: int = 6379,
        path: str | None = None,
        db: int = 0,
        username: str | None = None,
        password: str | None = None,
        ssl_context: ssl.SSLContext | None = None,
        timeout: float = 1.0,
    ) -> None:
        self._host = host
        self._port = port
        self._path = path
        self._ssl = ssl_context
        self._timeout = timeout
        self._name = path or f"{host}:{port}"
        self._handshake: list[bytes] = []
        if password is not None:
            auth = ("AUTH", password) if username is None else ("AUTH", username, password)
            self._handshake.append(_pack(auth))
        if db:
            self._handshake.append(_pack(("SELECT", db)))
        self._connection: _Connection | None = None
        self._opening: asyncio.Task[_Connection] | None = None
        self._closed = False

    @classmethod
    def from_url(cls, url: str, *, timeout: float) -> RespClient:
        """A client for a redis://, rediss:// or unix:// URL (see the module docstring)."""
        options = parse_url(url)
        context = None
        if options.get("connection_class") is SSLConnection:
            # redis-py's own SSL settings and defaults (certificates required, host checked).
            tls: dict[str, Any] = {k: v for k, v in options.items() if k.startswith("ssl_")}
            context = SSLConnection(**tls).ssl_context.get()
        return cls(
            host=options.get("host", "localhost"),
            port=options.get("port", 6379),
            path=options.get("path"),
            db=options.get("db", 0),
            username=options.get("username"),
            password=options.get("password"),
            ssl_context=context,
            timeout=timeout,
        )

    async def execute(self, *command: Arg) -> Any:
        """Run one command; its reply with strings decoded (UTF-8)."""
        connection = self._live() or await self._connect()
        return await connection.send(_pack(command))

    async def evalsha(self, script: LuaScript, keys: Sequence[Arg], args: Sequence[Arg]) -> Any:
        """Run a script by its SHA1, loading it first if Redis does not have it (NOSCRIPT)."""
        command = _pack(("EVALSHA", script.sha, len(keys), *keys, *args))
        connection = self._live() or await self._connect()
        try:
            return await connection.send(command)
        except NoScriptError:
            pass
        # Redis lost its script cache (restart, SCRIPT FLUSH): load and retry in one round trip.
        connection = await self._connect()
        load = connection.send(_pack(("SCRIPT", "LOAD", script.source)))
        retry = connection.send(command)
        outcomes: tuple[Any, Any] = await asyncio.gather(load, retry, return_exceptions=True)
        for outcome in outcomes:
            if isinstance(outcome, BaseException):
                raise outcome
        return outcomes[1]

    async def close(self) -> None:
        """Close the connection; calls in flight fail, later calls raise ConnectionError."""
        self._closed = True
        if self._opening is not None:
            # Not cancelled: its waiters must get a ConnectionError, which _open raises once it
            # sees the client closed (within the timeout).
            await asyncio.wait([self._opening])
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.abort(RedisConnectionError, "Client closed.")
            await connection.closed

    def _live(self) -> _Connection | None:
        """The open connection, if it is still up (checked without a coroutine on each call)."""
        connection = self._connection
        return connection if connection is not None and not connection.lost else None

    async def _connect(self) -> _Connection:
        """The live connection, or a new one; concurrent callers share one attempt."""
        connection = self._live()
        if connection is not None:
            return connection
        if self._closed:
            raise RedisConnectionError("Client closed.")
        if self._opening is None:
            self._opening = asyncio.create_task(self._open(), name="socle-resp-connect")
            self._opening.add_done_callback(self._opened)
        # Shielded: a caller that is cancelled must not cancel the others' attempt.
        return await asyncio.shield(self._opening)

    def _opened(self, task: asyncio.Task[_Connection]) -> None:
        self._opening = None
        if not task.cancelled():
            task.exception()  # retrieved here, raised to every waiter

    async def _open(self) -> _Connection:
        loop = asyncio.get_running_loop()

        def factory() -> _Connection:
            return _Connection(self._timeout, self._name)

        connection: _Connection | None = None
        try:
            async with asyncio.timeout(self._timeout):
                if self._path is not None:
                    _, connection = await loop.create_unix_connection(factory, self._path)
                else:
                    _, connection = await loop.create_connection(
                        factory, self._host, self._port, ssl=self._ssl
                    )
                # AUTH and SELECT in one round trip; the first error wins (after AUTH fails,
                # SELECT fails with NOAUTH).
                replies = await asyncio.gather(
                    *(connection.send(c) for c in self._handshake), return_exceptions=True
                )
                for reply in replies:
                    if isinstance(reply, BaseException):
                        raise reply
        except BaseException as exc:
            if connection is not None:
                connection.abort(RedisConnectionError, "Connection setup failed.")
            if isinstance(exc, TimeoutError | RedisTimeoutError):
                raise RedisTimeoutError(f"Timeout connecting to {self._name}") from exc
            if isinstance(exc, OSError):
                raise RedisConnectionError(f"Error connecting to {self._name}: {exc}") from exc
            raise
        if self._closed:
            connection.abort(RedisConnectionError, "Client closed.")
            raise RedisConnectionError("Client closed.")
        self._connection = connection
        return connection
