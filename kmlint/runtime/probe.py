"""Memory probes, used only inside the sandboxed child process.

The child records one JSON line per event in the file the parent named, and
flushes after each line, so the parent keeps every sample taken before a
crash, a kill by the watchdog or a timeout.

Host metrics (Linux): ``RssAnon`` from ``/proc/self/status`` (anonymous
resident memory: what the program allocated and touched) and glibc's
``mallinfo2`` in-use bytes (``uordblks + hblkhd``, through ctypes), which does
not count pages malloc keeps after a free.  ``tracemalloc`` is not used: it
misses TensorFlow's native allocations and slows Python code down.
TensorFlow's allocator (``tf.config.experimental.get_memory_info``, current
and peak bytes of live tensors) is asked once TensorFlow is imported: in TF
2.21 the CPU allocator keeps these statistics too (on hosts where the default
CPU allocator does not, the sandbox sets ``TF_CPU_ALLOCATOR_USE_BFC=true``),
but they read 0 until the process has run its first op and they cannot be read
from another process, which is why they must be read here, in the child, at
every sample.  GPU
device memory comes from NVML through ctypes when ``libnvidia-ml`` is present.

This module must not import TensorFlow itself: user code decides when it is
imported (and with which settings).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import json
import os
import sys
import threading
import time
from typing import Any, Callable, Optional

_STATUS_KEYS = {"RssAnon": "rss_anon", "VmRSS": "rss", "VmHWM": "hwm", "RssFile": "rss_file", "RssShmem": "rss_shmem"}


class _MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in
                ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost")]


def _load_mallinfo2() -> Optional[Callable[[], _MallInfo2]]:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        fn = libc.mallinfo2  # glibc >= 2.33
    except (OSError, AttributeError):
        return None
    fn.restype = _MallInfo2
    return fn


_mallinfo2 = _load_mallinfo2()


def host_memory() -> dict[str, int]:
    """Current host memory of this process, in bytes."""
    out: dict[str, int] = {}
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key in _STATUS_KEYS:
                    out[_STATUS_KEYS[key]] = int(value.split()[0]) * 1024
    except OSError:  # not Linux: peak RSS is all the standard library offers
        import resource

        scale = 1 if sys.platform == "darwin" else 1024
        out["rss"] = out["rss_anon"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale
    if _mallinfo2 is not None:
        info = _mallinfo2()
        out["malloc"] = info.uordblks + info.hblkhd
    return out


def reset_peak() -> None:
    """Reset the kernel's peak-RSS counter (VmHWM) so a region's own peak can be read."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as f:
            f.write("5")
    except OSError:
        pass


class _Nvml:
    """GPU memory in use through NVML (ctypes, no Python package needed)."""

    class _Memory(ctypes.Structure):
        _fields_ = [("total", ctypes.c_ulonglong), ("free", ctypes.c_ulonglong), ("used", ctypes.c_ulonglong)]

    def __init__(self) -> None:
        self.handle = None
        try:
            self.lib = ctypes.CDLL("libnvidia-ml.so.1")
            if self.lib.nvmlInit_v2() != 0:
                return
            handle = ctypes.c_void_p()
            index = int((os.environ.get("CUDA_VISIBLE_DEVICES") or "0").split(",")[0] or 0)
            if self.lib.nvmlDeviceGetHandleByIndex_v2(max(index, 0), ctypes.byref(handle)) == 0:
                self.handle = handle
        except (OSError, AttributeError, ValueError):
            self.handle = None

    def used(self) -> Optional[int]:
        if self.handle is None:
            return None
        mem = self._Memory()
        if self.lib.nvmlDeviceGetMemoryInfo(self.handle, ctypes.byref(mem)) != 0:
            return None
        return int(mem.used)


class Recorder:
    """Writes the run's events; shared by scenario runs and instrumented user code."""

    def __init__(self, path: str, device: str = "auto") -> None:
        self._file = open(path, "a", encoding="utf-8")
        self._lock = threading.Lock()
        self.wanted_device = device
        self.backend = "tensorflow"
        self.tf_device: Optional[str] = None  # "CPU:0" / "GPU:0" once TensorFlow is imported
        self._tf_stats = True
        self._nvml: Optional[_Nvml] = None
        self.samples = 0
        self._sampler: Optional[threading.Thread] = None
        self._sampling = False
        self._region_max: dict[str, int] = {}

    # ------------------------------------------------------------- writing
    def event(self, event_kind: str, **data: Any) -> None:
        data["e"] = event_kind
        data["t"] = round(time.monotonic(), 4)
        line = json.dumps(data, default=str)
        with self._lock:
            self._file.write(line + "\n")
            self._file.flush()

    def finish(self, reason: str, code: int = 0) -> None:
        """End the child now: the measured region is over."""
        self.stop_sampler()
        self.event("end", reason=reason)
        self._file.close()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)  # skip TensorFlow's slow teardown and the rest of the user's program

    # ------------------------------------------------------------- metrics
    def _tensorflow_memory(self) -> dict[str, int]:
        tf = sys.modules.get("tensorflow")
        if tf is None or not self._tf_stats:
            return {}
        if self.tf_device is None:
            self.tf_device = self.detect_device(tf)
        try:
            info = tf.config.experimental.get_memory_info(self.tf_device)
        except Exception:  # an allocator without statistics (old TensorFlow builds)
            self._tf_stats = False
            return {}
        # zeros before the first op are true: no tensor has been allocated yet
        return {"tf_current": int(info["current"]), "tf_peak": int(info["peak"])}

    def reset_tensorflow_peak(self) -> None:
        """Start a new peak window of TensorFlow's allocator (CPU and GPU)."""
        tf = sys.modules.get("tensorflow")
        if tf is None or not self._tf_stats:
            return
        if self.tf_device is None:
            self.tf_device = self.detect_device(tf)
        try:
            tf.config.experimental.reset_memory_stats(self.tf_device)
        except Exception:
            pass

    def detect_device(self, tf: Any) -> str:
        try:
            gpus = tf.config.list_physical_devices("GPU")
        except Exception:
            gpus = []
        device = "GPU:0" if gpus else "CPU:0"
        if gpus and self._nvml is None:
            self._nvml = _Nvml()
        self.event("device", device=device, gpus=len(gpus), tensorflow=getattr(tf, "__version__", "?"))
        return device

    # ------------------------------------------------------------- other Keras backends
    def configure_backend(self, backend: str) -> None:
        """JAX / PyTorch runs: import the framework, note the device, read its allocator from now on."""
        self.backend = backend
        gpus = 0
        if backend == "jax":
            import jax

            gpus = sum(1 for d in jax.devices() if d.platform in ("gpu", "cuda", "rocm"))
            version = jax.__version__
        elif backend == "torch":
            import torch

            gpus = torch.cuda.device_count() if torch.cuda.is_available() else 0
            version = torch.__version__
        else:
            raise RuntimeError(f"unknown Keras backend {backend!r}")
        self.tf_device = "GPU:0" if gpus else "CPU:0"
        if gpus and self._nvml is None:
            self._nvml = _Nvml()
        self.event("device", device=self.tf_device, gpus=gpus, backend=backend, version=version)

    def _backend_memory(self) -> dict[str, int]:
        """Allocator bytes of JAX (``Device.memory_stats``, GPU/TPU; None on the CPU) and PyTorch (CUDA)."""
        out: dict[str, int] = {}
        jax = sys.modules.get("jax")
        if jax is not None and self.backend == "jax":
            try:
                stats = jax.local_devices()[0].memory_stats()
            except Exception:
                stats = None
            if stats and "bytes_in_use" in stats:
                out["jax_bytes"] = int(stats["bytes_in_use"])
        torch = sys.modules.get("torch")
        if torch is not None and self.backend == "torch":
            try:
                if torch.cuda.is_available():
                    out["torch_bytes"] = int(torch.cuda.memory_allocated())
            except Exception:
                pass
        return out

    def measure(self) -> dict[str, int]:
        data = host_memory()
        data.update(self._tensorflow_memory())
        if self.backend != "tensorflow":
            data.update(self._backend_memory())
        if self._nvml is not None:
            used = self._nvml.used()
            if used is not None:
                data["gpu_used"] = used
        return data

    def sample(self, phase: str = "loop", **extra: Any) -> dict[str, int]:
        data = self.measure()
        for key in ("rss_anon", "malloc"):
            if key in self._region_max and key in data:
                self._region_max[key] = max(self._region_max[key], data[key])
        self.event("sample", i=self.samples, phase=phase, **data, **extra)
        self.samples += 1
        return data

    # ------------------------------------------------------------- peaks
    def start_region(self) -> None:
        """Baseline sample, then watch the region's peak: the kernel's VmHWM
        (reset here) plus a background thread sampling RssAnon, since short
        peaks inside one TensorFlow call would fall between two samples."""
        self.reset_tensorflow_peak()
        base = self.sample("baseline")
        self._region_max = {k: base[k] for k in ("rss_anon", "malloc") if k in base}
        reset_peak()
        self._sampling = True
        self._sampler = threading.Thread(target=self._watch, daemon=True)
        self._sampler.start()

    def restart_window(self) -> None:
        """Forget the peak so far (the baseline stays): the measured phase starts here."""
        self.reset_tensorflow_peak()
        now = self.sample("window")
        self._region_max = {k: now[k] for k in ("rss_anon", "malloc") if k in now}
        reset_peak()

    def _watch(self) -> None:
        while self._sampling:
            data = host_memory()
            for key in ("rss_anon", "malloc"):
                if key in data and key in self._region_max:
                    self._region_max[key] = max(self._region_max[key], data[key])
            time.sleep(0.002)

    def stop_sampler(self) -> None:
        self._sampling = False
        if self._sampler is not None:
            self._sampler.join(timeout=1)
            self._sampler = None

    def end_region(self) -> None:
        self.stop_sampler()
        end = self.sample("end")
        peak = dict(self._region_max)
        if "hwm" in end:
            # VmHWM counts file pages too; the ones resident now were (almost
            # always) resident at the peak, so subtracting them estimates the
            # anonymous peak without missing sub-millisecond spikes.
            anon_peak = end["hwm"] - end.get("rss_file", 0) - end.get("rss_shmem", 0)
            peak["rss_anon"] = max(peak.get("rss_anon", 0), anon_peak)
        if "tf_peak" in end:
            peak["tf_current"] = end["tf_peak"]
        self.event("peak", **peak)



def settle(limit_s: float = 2.0) -> None:
    """Let background buffers (prefetch, parallel map) fill: wait until
    RssAnon stops growing for 0.2 s, at most ``limit_s`` seconds."""
    deadline = time.monotonic() + limit_s
    last, still = host_memory().get("rss_anon", 0), 0
    while time.monotonic() < deadline and still < 10:
        time.sleep(0.02)
        now = host_memory().get("rss_anon", 0)
        still = still + 1 if abs(now - last) < 256 * 1024 else 0
        last = now
