"""The one bridge from blocking code to the IO loop, and the wrapper every blocking face uses.

:func:`run` awaits a coroutine function on fsspec's IO loop (the loop of the API
client and the ``webcoos://`` filesystem, so both share one connection pool) from
a thread outside it.  Ctrl-C (``KeyboardInterrupt``) cancels the work on the loop
and waits a moment (:data:`CANCEL_GRACE`) for its clean-up (temporary files,
connections) instead of leaving it running; a call blocked in a worker thread (a
dask task) gives up as soon as the main thread has ended, so the interpreter can
exit.

:func:`blocking` makes a blocking method out of a coroutine method, keeping its
name, signature and docstring for IDEs, type checkers and ``help()``:
``elements = blocking(AsyncClient.elements, via="aclient")``.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import concurrent.futures.thread
import functools
import threading
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, Concatenate, ParamSpec, TypeVar

import fsspec.asyn

from intake_webcoos.errors import BlockingCallError, InterpreterExitError

_T = TypeVar("_T")
_P = ParamSpec("_P")
#: Seconds an interrupted call waits for its work on the loop to be cancelled and cleaned up.
CANCEL_GRACE = 5.0
#: Seconds between looks at Ctrl-C and at the main thread while a call waits.
_POLL = 0.25


#: Set when the interpreter starts to exit.  Python joins worker threads (those of
#: dask's pool too, by concurrent.futures' exit hook) before the main thread counts
#: as ended, so the hook is how a blocked worker learns it; registered after
#: concurrent.futures' own, it runs before it (the hooks run in reverse order).
_exiting = threading.Event()
threading._register_atexit(_exiting.set)


def _main_thread_ended() -> bool:
    """Whether this is a worker thread outliving the main thread (the interpreter exits)."""
    return threading.current_thread() is not threading.main_thread() and (
        _exiting.is_set() or not threading.main_thread().is_alive())


class Pending:
    """Work started on the IO loop by :func:`start`: wait for it with :meth:`result`."""

    def __init__(self, func: Callable[..., Awaitable[Any]], args: tuple, kwargs: dict,
                 loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self._finished = threading.Event()

        async def guarded() -> Any:
            try:
                return await func(*args, **kwargs)
            finally:
                self._finished.set()

        self.future = asyncio.run_coroutine_threadsafe(guarded(), loop)

    def done(self) -> bool:
        return self.future.done()

    def cancel(self) -> None:
        """Cancel the work on the loop (without waiting for it)."""
        if not self.future.done():
            self.loop.call_soon_threadsafe(self.future.cancel)

    def result(self) -> Any:
        """Its result, waiting for it; see :func:`run` for Ctrl-C and the interpreter's exit."""
        try:
            while True:  # short waits, so that Ctrl-C and the main thread's end are seen
                try:
                    return self.future.result(timeout=_POLL)
                except concurrent.futures.TimeoutError:
                    if _main_thread_ended():
                        raise InterpreterExitError(
                            "the program is ending: the transfer was cancelled") from None
        except (KeyboardInterrupt, InterpreterExitError):
            self.cancel()
            self._finished.wait(CANCEL_GRACE)
            raise


def start(func: Callable[..., Awaitable[Any]], *args: Any,
          loop: asyncio.AbstractEventLoop | None = None, **kwargs: Any) -> Pending:
    """Start ``func(*args, **kwargs)`` on ``loop`` (fsspec's IO loop) from a thread outside it.

    Raises :class:`BlockingCallError` on that loop itself and
    :class:`InterpreterExitError` in a worker thread once the main thread has ended.
    """
    loop = loop or fsspec.asyn.get_loop()
    try:
        inside = asyncio.get_running_loop() is loop
    except RuntimeError:
        inside = False
    if inside:
        raise BlockingCallError("a blocking call cannot run on the IO loop it waits for: "
                                "await the coroutine (the method with a leading _) instead")
    if _main_thread_ended():
        raise InterpreterExitError("the program is ending: no new transfer starts")
    return Pending(func, args, kwargs, loop)


def run(func: Callable[..., Awaitable[_T]], *args: Any,
        loop: asyncio.AbstractEventLoop | None = None, **kwargs: Any) -> _T:
    """``await func(*args, **kwargs)`` on ``loop`` (fsspec's IO loop), from a thread outside it.

    Raises
    ------
    KeyboardInterrupt
        After the work on the loop was cancelled and its clean-up ran (or
        :data:`CANCEL_GRACE` seconds passed).
    InterpreterExitError
        In a worker thread once the main thread has ended, after cancelling the work.
    BlockingCallError
        Called on the loop it would wait for (it would hang).
    """
    return start(func, *args, loop=loop, **kwargs).result()


def blocking(method: Callable[Concatenate[Any, _P], Coroutine[Any, Any, _T]], *,
             via: str | None = None, name: str | None = None,
             doc: str | None = None) -> Callable[Concatenate[Any, _P], _T]:
    """A blocking method that awaits coroutine ``method`` through :func:`run`.

    Parameters
    ----------
    method : coroutine function
        The async method (``AsyncClient.elements``, ``WebcoosFileSystem._ls``).
        It is looked up by name on its owner at call time, so overrides apply.
    via : str, optional
        The attribute of ``self`` that owns ``method`` (``"aclient"``); default ``self``.
    name : str, optional
        The blocking method's name; default ``method``'s without leading underscores.
    doc : str, optional
        Its docstring, when ``method`` has none.

    Returns
    -------
    callable
        Same signature and docstring as ``method``; runs on ``self.loop`` when
        ``self`` has one (a filesystem), else on fsspec's IO loop.
    """
    attribute = method.__name__

    @functools.wraps(method)
    def call(self: Any, *args: _P.args, **kwargs: _P.kwargs) -> _T:
        owner = self if via is None else getattr(self, via)
        return run(getattr(owner, attribute), *args, loop=getattr(self, "loop", None),
                   **kwargs)

    call.__name__ = name or attribute.lstrip("_")
    call.__doc__ = method.__doc__ or doc
    call.__blocking__ = True  # type: ignore[attr-defined]  # how tests recognise them
    return call


__all__ = ["CANCEL_GRACE", "Pending", "blocking", "run", "start"]
