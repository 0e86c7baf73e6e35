"""Rendering processes die with the process that started them.

A rendering process holds a few hundred megabytes (fonts, layouts) and is useful to its parent
only. When the parent is killed outright (``kill -9``, the out-of-memory killer) it cannot stop
its children, so each child watches for itself:

- on Linux, with ``kernel_signal``, the kernel sends it SIGKILL the moment its parent dies
  (``prctl(PR_SET_PDEATHSIG)``). The kernel's "parent" is the *thread* that started the child,
  so use it only where that thread lives as long as the children should (a job consumer's
  worker threads); a child started from a short-lived thread would die with the thread.
- everywhere, a thread polls the parent's pid twice a second: a child whose parent is gone is
  adopted by another process, and exits as soon as it sees that.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading
import time

#: prctl(2) option: the signal this process gets when its parent dies.
PR_SET_PDEATHSIG = 1
POLL_SECONDS = 0.5


def die_with_parent(parent_pid: int, *, kernel_signal: bool = False) -> None:
    """Make this process exit when the process ``parent_pid`` (its parent) is gone."""
    if kernel_signal and sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):
            pass  # the polling thread below still covers it
    if os.getppid() != parent_pid:
        os._exit(1)  # the parent died before we could ask to follow it
    threading.Thread(
        target=_watch, args=(parent_pid,), name="konvert-lifeline", daemon=True
    ).start()


def _watch(parent_pid: int) -> None:
    while True:
        time.sleep(POLL_SECONDS)
        if os.getppid() != parent_pid:
            os._exit(1)
