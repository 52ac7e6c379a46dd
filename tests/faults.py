"""Fault injection for the crash-safety tests: a forked child that SIGKILLs itself at the k-th call
of the os functions that chainrule's atomic writes make (``chainrule.io.atomic_write``)."""
import os
import signal

PROTOCOL = ("write", "fsync", "replace", "remove")  # the os calls of a write, rename, prune


def killed_at(k, work):
    """Run ``work()`` in a forked child that kills itself (SIGKILL, as a power cut or the OOM killer
    would) just before its k-th protocol call; True if it was killed, False if ``work`` finished first."""
    pid = os.fork()
    if pid == 0:  # the child never returns
        try:
            import chainrule as cr

            cr.set_num_threads(1)  # a forked child has no thread pool
            calls = iter(range(1, 10**9))

            def deadly(fn):
                def call(*args, **kwargs):
                    if next(calls) == k:
                        os.kill(os.getpid(), signal.SIGKILL)
                    return fn(*args, **kwargs)
                return call

            for name in PROTOCOL:
                setattr(os, name, deadly(getattr(os, name)))
            work()
        finally:
            os._exit(0)
    _, status = os.waitpid(pid, 0)
    return os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
