"""A child process of the venue ends when the venue does, however the venue ends."""

import ctypes
import os
import signal
import sys

_PR_SET_PDEATHSIG = 1


def die_with_parent(parent_pid: int) -> bool:
    """Have the kernel kill this process when its parent ends; False if the parent
    `parent_pid` is already gone (it ended before this call: then nothing would fire).

    Checking the parent between polls is not enough: a child blocked in a database call
    (a locked table, a server that stopped answering) or on a socket would outlive a venue
    that was killed. Linux only (`prctl`); elsewhere the callers' own checks remain.
    """
    if sys.platform == "linux":
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    return os.getppid() == parent_pid
