"""Every process-wide setting chainrule changes, in one place; ``show()`` prints them and why.

``import chainrule`` changes two things for the whole process, each measured to matter (the numbers are in
``settings()``'s reasons, which ``show()`` prints):

- **OpenBLAS's spin**: after a threaded product OpenBLAS's workers busy-wait for the next one; chainrule
  shortens the wait by setting ``OPENBLAS_THREAD_TIMEOUT``, never over a value already in the environment.
  OpenBLAS reads it when it loads, that is when NumPy is imported: ``__init__`` imports this module before
  anything that imports NumPy. When NumPy came first, chainrule has OpenBLAS read it again, through functions
  every OpenBLAS exports (``driver/others/``): ``openblas_read_env`` (``openblas_env.c``) re-reads the
  variables it caches, ``blas_thread_shutdown_`` (``blas_server.c``; OpenBLAS's own handler before a fork)
  stops its worker threads, and ``blas_thread_init`` starts them again, copying the cached timeout into the
  spin. Only done while chainrule's import is the process's one Python thread (no product can be running);
  otherwise, or where the BLAS is not OpenBLAS on pthreads, the spin stays as loaded and ``show()`` says so.
- **glibc's malloc**: told to keep freed memory for reuse instead of handing it back to the kernel
  (``allocator.py`` holds the two ``mallopt`` calls).

Later, the first op that splits its work over threads starts a **worker pool** that stays alive for the
next one. The **thread count** is NumPy's BLAS's, which chainrule changes only when asked:
``set_num_threads(n)``, or ``with num_threads(n):`` for a block.

**Which code computes the ops**: the fast kernels (``chainrule/kernels/``) by default, or the reference ops
that read like the notes (``chainrule/ops/``) under ``use_reference()`` / ``CHAINRULE_REFERENCE=1``.

``CHAINRULE_RUNTIME_DEFAULTS=0`` in the environment turns off both import-time changes;
``CHAINRULE_MALLOC_TUNING=0`` only the malloc tuning; an ``OPENBLAS_THREAD_TIMEOUT`` of your own replaces
chainrule's. All three are read once, at import.
"""
import os
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

from threadpoolctl import ThreadpoolController

from . import allocator

SWITCHES = ("CHAINRULE_RUNTIME_DEFAULTS", "CHAINRULE_MALLOC_TUNING", "CHAINRULE_REFERENCE")
_switches = {name: os.environ.get(name) for name in SWITCHES}  # as read at import, when they take effect
DEFAULTS_ON = _switches["CHAINRULE_RUNTIME_DEFAULTS"] != "0"
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
_OFF = "off (CHAINRULE_RUNTIME_DEFAULTS=0)"

BLAS_SPIN_LOG2_CYCLES = 18  # OpenBLAS's default: 28
MMAP_THRESHOLD = 32 << 20  # glibc's largest allowed value
TRIM_THRESHOLD = 1 << 30


def _shorten_blas_spin():
    """Set ``OPENBLAS_THREAD_TIMEOUT`` where it can still take effect; says what happened."""
    if not DEFAULTS_ON:
        return _OFF
    if "OPENBLAS_THREAD_TIMEOUT" in os.environ:
        return "kept from the environment"
    os.environ["OPENBLAS_THREAD_TIMEOUT"] = str(BLAS_SPIN_LOG2_CYCLES)
    if "numpy" not in sys.modules:
        return "set by chainrule"
    state = _reinitialize_openblas()
    if not state.startswith("set"):  # the loaded OpenBLAS keeps its spin: the variable would only mislead
        del os.environ["OPENBLAS_THREAD_TIMEOUT"]
    return state


def _reinitialize_openblas():
    """NumPy loaded OpenBLAS before chainrule set the variable: have each OpenBLAS (pthreads server) read the
    environment again and restart its workers, which take the new spin; says what happened."""
    if threading.active_count() > 1:  # another thread may be inside BLAS: stopping its workers could hang it
        return "not applied: NumPy was imported before chainrule, and other threads were running"
    done = 0
    for lib in ThreadpoolController().select(internal_api="openblas").lib_controllers:
        try:
            functions = lib.dynlib.openblas_read_env, lib.dynlib.blas_thread_shutdown_, lib.dynlib.blas_thread_init
        except AttributeError:
            continue
        if getattr(lib, "threading_layer", None) != "pthreads":  # the OpenMP server has no spin of its own
            continue
        for function in functions:  # read the variables, stop the workers, start them (with the new spin)
            function()
        done += 1
    if not done:
        return "not applied: NumPy was imported before chainrule, and its BLAS has no OpenBLAS thread server"
    return "set by chainrule (OpenBLAS re-initialized: NumPy was imported first)"


def _tune_malloc():
    """Apply the malloc tuning unless switched off; (applied, what happened)."""
    if not DEFAULTS_ON:
        return False, _OFF
    if _switches["CHAINRULE_MALLOC_TUNING"] == "0":
        return False, "off (CHAINRULE_MALLOC_TUNING=0)"
    if allocator.keep_freed_memory(MMAP_THRESHOLD, TRIM_THRESHOLD):
        return True, "tuned by chainrule"
    return False, "not applied: not Linux with glibc"


_blas_spin = _shorten_blas_spin()
MALLOC_TUNED, _malloc = _tune_malloc()
_controller = None
_pool = None
reference = _switches["CHAINRULE_REFERENCE"] == "1"  # the ops read it at each call: see use_reference


class use_reference:
    """Compute every op with a fast kernel by its reference form instead: ``use_reference()`` or
    ``use_reference(True)`` switches at once, ``use_reference(False)`` switches back; as a context manager
    (``with chainrule.use_reference():``) the previous choice comes back on leaving the block.
    ``CHAINRULE_REFERENCE=1`` in the environment starts a process on the reference ops.

    The reference ops (``chainrule/ops/``) compute each formula of the notes in a few lines of NumPy; the fast
    kernels (``chainrule/kernels/``: blocked, threaded, fused) are tested equal to them. Both give the same
    results up to float rounding; the reference is slower (measured on one op: an LSTM step 1.1×, a BatchNorm
    training step 2×, a transposed conv ~5×, max pooling's forward up to 20×)."""

    def __init__(self, mode=True):
        global reference
        self.previous, reference = reference, bool(mode)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        global reference
        reference = self.previous
        return False


CONV_ALGORITHMS = ("auto", "im2col", "winograd2", "winograd4")
_conv_algorithm = "auto"


def _check_conv_algorithm(name, where):
    if name not in CONV_ALGORITHMS:
        raise ValueError(f"{where}: algorithm must be one of {', '.join(map(repr, CONV_ALGORITHMS))}, got {name!r}")


def get_conv_algorithm():
    """How 2-D convolutions are computed when a call does not say (``F.conv2d(..., algorithm=None)``)."""
    return _conv_algorithm


def set_conv_algorithm(name):
    """Compute 2-D convolutions by ``name``: 'auto' (the default: per layer shape and dtype — Winograd for float32
    3×3 stride-1 layers that are not narrow, im2col for the rest and for float64: ``kernels/winograd.choose``),
    'im2col' (columns + GEMM, every convolution), 'winograd2' / 'winograd4' (Winograd F(2×2, 3×3) / F(4×4, 3×3)
    where it applies — 3×3, stride 1, dilation 1, one group — and im2col elsewhere). The fast kernels only: under
    ``use_reference()`` every convolution is the reference im2col op."""
    global _conv_algorithm
    _check_conv_algorithm(name, "set_conv_algorithm")
    _conv_algorithm = name


class conv_algorithm:
    """``with conv_algorithm(name):`` ``set_conv_algorithm(name)`` inside the block, the previous choice restored
    on leaving it (also when it raises)."""

    def __init__(self, name):
        _check_conv_algorithm(name, "conv_algorithm")
        self.name = name

    def __enter__(self):
        global _conv_algorithm
        self.previous, _conv_algorithm = _conv_algorithm, self.name
        return self

    def __exit__(self, *exc):
        global _conv_algorithm
        _conv_algorithm = self.previous
        return False


def thread_pools():
    """threadpoolctl's handle on the native thread pools (BLAS, OpenMP); made on first use, once NumPy has
    loaded its BLAS."""
    global _controller
    if _controller is None:
        _controller = ThreadpoolController()
    return _controller


def _check_thread_count(n, where):
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"{where}: n must be a positive int (a thread count), got {n!r}")


def get_num_threads():
    """Threads chainrule computes on: BLAS's current thread count (1 if NumPy has no BLAS pool)."""
    return max((lib.num_threads for lib in thread_pools().select(user_api="blas").lib_controllers), default=1)


def set_num_threads(n):
    """Compute on ``n`` threads (sets NumPy's BLAS and OpenMP pools, as torch.set_num_threads)."""
    _check_thread_count(n, "set_num_threads")
    thread_pools().limit(limits=n)


def num_threads(n):
    """``with num_threads(n):`` compute on ``n`` threads inside the block (chainrule's, NumPy's BLAS and
    OpenMP pools); the counts from before are restored on leaving it, also when it raises. As threadpoolctl's
    ``threadpool_limits``, the count is set by the call itself (a plain call sets it for good)."""
    _check_thread_count(n, "num_threads")
    return thread_pools().limit(limits=n)


def worker_pool(workers):
    """The threads that ops hand shares of their work to, at least ``workers`` of them: started on first
    use and kept for the next op rather than started on every call (idle ones wait without using a core)."""
    global _pool
    if _pool is None or _pool._max_workers < workers:
        _pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="chainrule")
    return _pool


def _describe(pool):
    layer = f", {pool['threading_layer']}" if "threading_layer" in pool else ""
    return f"{pool['prefix']} ({pool['internal_api']} {pool['version']}{layer}): num_threads={pool['num_threads']}"


def settings():
    """Every process-wide setting chainrule touches, as ``show()`` prints it: per setting, its current
    value, who set it (``state``) and why."""
    pools = thread_pools().info()
    return {
        "threads": {
            "chainrule": get_num_threads(),
            "blas": [_describe(p) for p in pools if p["user_api"] == "blas"],
            "openmp": [_describe(p) for p in pools if p["user_api"] == "openmp"],
            "set in the environment": [f"{v}={os.environ[v]}" for v in THREAD_VARIABLES if v in os.environ],
            "state": "chainrule's count is BLAS's; chainrule changes it only in set_num_threads(n) and, for a "
                     "block, num_threads(n)",
            "why": "BLAS splits each matrix product over its threads; ops whose products are too small to split "
                   "(conv blocks, norm, activation and recurrent rows) split their own work over as many",
        },
        "blas_spin": {
            "OPENBLAS_THREAD_TIMEOUT": os.environ.get("OPENBLAS_THREAD_TIMEOUT"),
            "chainrule's value": f"{BLAS_SPIN_LOG2_CYCLES} (2^{BLAS_SPIN_LOG2_CYCLES} cycles, ~0.1 ms; OpenBLAS's "
                                 "default 28, ~0.1 s)",
            "state": _blas_spin,
            "why": "an OpenBLAS worker still spinning after the last product took a core from chainrule's own "
                   "threads: a LeNet-5 step at 2 threads took 17.4 ms, 11.8 ms with the shorter spin (an LSTM "
                   "step, back-to-back products, unchanged)",
        },
        "malloc": {
            "tuned": MALLOC_TUNED,
            "M_MMAP_THRESHOLD": f"{MMAP_THRESHOLD >> 20} MiB" if MALLOC_TUNED else "glibc's default",
            "M_TRIM_THRESHOLD": f"{TRIM_THRESHOLD >> 30} GiB" if MALLOC_TUNED else "glibc's default",
            "state": _malloc,
            "why": "a training step frees and reallocates the same large temporaries; glibc by default gives them "
                   "back to the kernel, and each step then paid a page fault per 4 KiB (4.2 µs each on a 2-core VM, "
                   "doubling some conv backward passes). The price: the resident size stays near its peak",
        },
        "worker_pool": {
            "alive": _pool is not None,
            "threads": len(_pool._threads) if _pool is not None else 0,
            "state": "started by the first op that splits its work over threads, kept for the next",
            "why": "ops hand all but the first share of their work to these threads; idle ones wait without "
                   "using a core",
        },
        "ops": {
            "path": "reference (chainrule/ops)" if reference else "fast kernels (chainrule/kernels)",
            "state": "set by CHAINRULE_REFERENCE=1 or use_reference()" if reference else "the default",
            "why": "the reference ops read like the notes; the fast kernels compute the same results faster",
        },
        "conv_algorithm": {
            "value": _conv_algorithm,
            "state": "the default" if _conv_algorithm == "auto" else "set by set_conv_algorithm / conv_algorithm",
            "why": "'auto' picks per layer shape between im2col + GEMM and Winograd F(2×2, 3×3) / F(4×4, 3×3) "
                   "(fewer multiplications, more rounding): kernels/winograd.choose",
        },
        "switches": {
            **_switches,
            "state": "read at import: CHAINRULE_RUNTIME_DEFAULTS=0 turns off the BLAS spin setting and the malloc "
                     "tuning, CHAINRULE_MALLOC_TUNING=0 the malloc tuning only, CHAINRULE_REFERENCE=1 starts on "
                     "the reference ops",
        },
    }


def _text(value):
    if value is None:
        return "unset"
    if isinstance(value, list):
        return "; ".join(value) or "none"
    return str(value)


def show():
    """Print ``settings()``: each process-wide setting chainrule changed, its value and why (as
    torch.__config__.show())."""
    print("chainrule: process-wide settings (chainrule/runtime.py)")
    for section, fields in settings().items():
        print(section)
        for key, value in fields.items():
            print(f"  {key}: {_text(value)}")
