"""Work handed to a C library with hostile or heavy input, run in a child with its memory and time capped.

WeasyPrint renders briefings, qpdf rewrites uploaded PDFs, Pillow redraws uploaded images:
each can be made to allocate gigabytes or spin for minutes by a crafted input. In a forked
child with an address-space cap and a deadline, such work fails alone; the server process
that asked for it neither grows nor waits past the deadline.
"""

from __future__ import annotations

import gc
import multiprocessing
import resource
from collections.abc import Callable
from typing import Any

MB = 1024 * 1024


class BoundedRunError(RuntimeError):
    """The work did not finish within its limits.

    ``reason`` is ``"timeout"``, ``"memory"``, ``"crashed"`` (the child died without an answer)
    or the name of the exception the work raised.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def address_space_in_use() -> int:
    """This process's virtual memory size in bytes (0 where /proc is not available)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _child(
    conn: Any,
    work: Callable[..., bytes],
    args: tuple[Any, ...],
    memory_mb: int,
    passed_on: tuple[type[Exception], ...],
) -> None:
    try:
        # The forked child starts with the server's whole address space; the cap is what the
        # work may add on top of that, however large the server has grown.
        limit = address_space_in_use() + memory_mb * MB
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        result = work(*args)
        conn.send_bytes(b"OK" + result)
    except MemoryError:
        conn.send_bytes(b"ERmemory")
    except passed_on as error:
        # Sent as its class's place in ``passed_on`` and its message: no pickle from a child
        # that has just handled hostile input.
        index = next(i for i, kind in enumerate(passed_on) if isinstance(error, kind))
        conn.send_bytes(b"EX" + bytes([index]) + str(error).encode())
    except BaseException as error:  # the parent turns any other failure into one reason
        conn.send_bytes(b"ER" + type(error).__name__.encode())
    finally:
        conn.close()


def run_bounded(
    work: Callable[..., bytes],
    *args: Any,
    timeout: float,
    memory_mb: int,
    passed_on: tuple[type[Exception], ...] = (),
) -> bytes:
    """``work(*args)`` in a forked child that may add at most ``memory_mb`` and take ``timeout`` seconds.

    Exceptions of the classes in ``passed_on`` (built from one message) are raised again here
    with their message; any other failure raises ``BoundedRunError``.
    """
    ctx = multiprocessing.get_context("fork")
    receiver, sender = ctx.Pipe(duplex=False)
    child = ctx.Process(target=_child, args=(sender, work, args, memory_mb, passed_on), daemon=True)
    # Frozen objects are skipped by the child's garbage collector: it does not walk (and copy)
    # the whole inherited heap of the server process on every collection.
    gc.freeze()
    try:
        child.start()
    finally:
        gc.unfreeze()
    sender.close()
    try:
        if not receiver.poll(timeout):
            raise BoundedRunError("timeout")
        try:
            message = receiver.recv_bytes()
        except EOFError:
            raise BoundedRunError("crashed") from None
    finally:
        receiver.close()
        if child.is_alive():
            child.kill()
        child.join(5)
    status, body = message[:2], message[2:]
    if status == b"OK":
        return body
    if status == b"EX":
        raise passed_on[body[0]](body[1:].decode(errors="replace"))
    raise BoundedRunError(body.decode(errors="replace"))
