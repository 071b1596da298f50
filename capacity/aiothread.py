"""Run an asyncio client (nats-py) on a private event loop in a real OS thread.

Callers are synchronous: plain threads, or greenlets in a gevent-monkey-patched Locust process.
:meth:`AsyncLoopThread.run` submits a coroutine to the loop and blocks until it finishes; under
gevent it waits on a libev ``async`` watcher, so only the calling greenlet waits and the hub keeps
running the others. The loop thread is started with the *original* ``_thread.start_new_thread`` and
uses the original selector, so it is a real thread running a real epoll loop even after
``monkey.patch_all()``.

Known limit under gevent: the loop resolves host names through the default executor, which
monkey-patching would turn into greenlets that never run in the loop thread; pass numeric
addresses, or call :func:`resolve_host` first (it resolves in the caller, cooperatively).
"""

from __future__ import annotations

import asyncio
import socket
import sys
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def gevent_patched() -> bool:
    """True when gevent has monkey-patched threading in this process (e.g. inside Locust)."""
    monkey = sys.modules.get("gevent.monkey")
    return monkey is not None and bool(monkey.is_module_patched("threading"))


def _original(module: str, name: str) -> Any:
    if gevent_patched():
        from gevent import monkey

        return monkey.get_original(module, name)
    return getattr(sys.modules[module] if module in sys.modules else __import__(module), name)


def resolve_host(host: str, port: int) -> str:
    """Resolve ``host`` to a numeric address in the caller (cooperative under gevent)."""
    try:
        socket.inet_pton(socket.AF_INET6 if ":" in host else socket.AF_INET, host)
        return host
    except OSError:
        pass
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    if not infos:
        raise OSError(f"cannot resolve host {host!r}")
    return str(infos[0][4][0])


class AsyncLoopThread:
    """One asyncio loop in one real thread; ``run(coro_fn, timeout)`` from any thread or greenlet."""

    def __init__(self, name: str = "capplan-asyncio") -> None:
        selector_cls = _original("selectors", "DefaultSelector")
        self._loop = asyncio.SelectorEventLoop(selector_cls())
        started = _original("_thread", "allocate_lock")()
        started.acquire()
        self._name = name
        self._closed = False

        def main() -> None:
            asyncio.set_event_loop(self._loop)
            self._loop.call_soon(started.release)
            try:
                self._loop.run_forever()
            finally:
                self._loop.close()

        self._thread_id = _original("_thread", "start_new_thread")(main, ())
        started.acquire()  # the loop is running (a real lock: this wait is microseconds)

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        return self._loop

    def run(self, coro_fn: Callable[[], Awaitable[T]], timeout: float | None = None) -> T:
        """Run ``coro_fn()`` on the loop and return its result (or raise its exception).

        ``timeout`` (seconds) cancels the coroutine and raises :class:`TimeoutError`.
        """
        if self._closed:
            raise RuntimeError(f"the asyncio thread {self._name!r} is closed")
        box: dict[str, Any] = {}
        waker = _Waker()

        async def runner() -> None:
            try:
                aw = coro_fn()
                box["value"] = await (asyncio.wait_for(aw, timeout) if timeout is not None else aw)
            except BaseException as exc:  # noqa: BLE001 - handed to the caller as is
                box["error"] = exc
            finally:
                waker.wake()

        def start() -> None:
            task = self._loop.create_task(runner())
            box["task"] = task

        self._loop.call_soon_threadsafe(start)
        waker.wait()
        if "error" in box:
            err = box["error"]
            if isinstance(err, asyncio.TimeoutError | asyncio.CancelledError):
                raise TimeoutError(f"operation did not finish within {timeout} s") from None
            raise err
        return box["value"]  # type: ignore[no-any-return]

    def submit_nowait(self, coro_fn: Callable[[], Coroutine[Any, Any, Any]]) -> None:
        """Start ``coro_fn()`` on the loop and return at once (its result and errors are dropped)."""
        if self._closed:
            return
        self._loop.call_soon_threadsafe(lambda: self._loop.create_task(coro_fn()))

    def close(self, timeout: float = 2.0) -> None:
        """Cancel pending tasks and stop the loop thread (idempotent)."""
        if self._closed:
            return

        async def cancel_all() -> None:
            me = asyncio.current_task()
            tasks = [t for t in asyncio.all_tasks() if t is not me]
            for t in tasks:
                t.cancel()
            if tasks:
                await asyncio.wait(tasks, timeout=timeout)

        try:
            self.run(cancel_all, timeout=timeout + 0.5)
        except Exception:  # noqa: BLE001 - closing anyway
            pass
        self._closed = True
        if not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._loop.stop)


class _Waker:
    """Block the caller until ``wake()`` is called from the loop thread.

    Plain threads wait on a real lock. Under gevent the caller waits on an ``async`` watcher of its
    thread's hub, whose ``send`` is thread-safe; the other greenlets keep running meanwhile.
    """

    __slots__ = ("_lock", "_watcher", "_waiter", "_done")

    def __init__(self) -> None:
        self._done = False
        self._watcher: Any = None
        self._waiter: Any = None
        self._lock: Any = None
        if gevent_patched():
            from gevent import get_hub
            from gevent.hub import Waiter

            hub = get_hub()
            self._waiter = Waiter(hub)
            self._watcher = hub.loop.async_()
            self._watcher.start(self._waiter.switch, None)
        else:
            self._lock = _original("_thread", "allocate_lock")()
            self._lock.acquire()

    def wake(self) -> None:
        self._done = True
        if self._watcher is not None:
            self._watcher.send()
        else:
            self._lock.release()

    def wait(self) -> None:
        if self._watcher is None:
            self._lock.acquire()
            return
        try:
            while not self._done:
                self._waiter.get()
                if not self._done:  # a spurious wake: re-arm
                    from gevent.hub import Waiter

                    self._waiter = Waiter(self._waiter.hub)
                    self._watcher.stop()
                    self._watcher.start(self._waiter.switch, None)
        finally:
            self._watcher.stop()
            self._watcher.close()
