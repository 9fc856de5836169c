"""All srcad benchmarks in one process, one table: each row a ratio to hand-written code.

Workloads (each gradient is checked against the hand-written one before it is timed):

* W1 -- the seed's sigmoid gate f(x, y) (examples/sigmoid_gate.py, Python floats at
        (3, -4)): ``srcad.grad(f)`` vs the seed's hand-written listing ``f_grad_by_hand``.
        Target ratio <= 1.00.
* W2 -- ``(x1 + x2) * x3 * (x4 * x5) ** 2`` (examples/chain_rule.py ``five_inputs``):
        ``srcad.grad`` vs ``five_inputs_grad_by_hand`` below (what an expert writes: the
        four forward values the gradient needs, then one line per adjoint; the forward
        output itself is not computed). Target <= 1.00. Also shown: the same code tuned
        for CPython the way srcad's optimizer tunes its own (``p * p`` for ``p**2``,
        ``2.0`` for ``2``), which srcad does not quite reach: its float version first
        checks that the inputs are floats (not numpy arrays).
* W3 -- the 2-layer tanh MLP with softmax cross-entropy (benchmarks/mlp.py, numpy,
        X 256 x 64): ``srcad.grad(loss, wrt=W1, b1, W2, b2)`` vs ``loss_grad_by_hand``.
        Target <= 1.00 (issue 17).
* W4 -- the 1000-iteration scalar loop (benchmarks/loop.py): ``srcad.grad(loop,
        wrt=x)`` vs ``loop_grad_by_hand``. Target <= 1.5.
* T  -- transform time: ``srcad.grad(f)`` of generated straight-line functions of 100,
        1000 and 4000 statements of 2-4 operations each (+ - * / and math.sin /
        math.tanh over earlier variables, two float parameters). Every measurement writes a NEW module
        (new file, new seed, so a new code object: nothing comes from srcad's cache);
        ms per build and us per statement, min over repeats; then the same with the
        gradient's first call at (0.3, 0.7). Targets: 1000 statements built and called
        once <= 0.25 s; us/statement growth from 100 to 4000 < 2x. Also the time of a cached
        ``srcad.grad(f)`` (a dictionary hit: microseconds).

Peers, only where importable (never required; ``pip install srcad[bench]`` installs
JAX and PyTorch): autograd; JAX (``jax.grad`` eager and ``jax.jit(jax.grad)``, the jit
compile time reported apart); PyTorch (CPU, eager, float64, one thread:
``torch.autograd.grad`` on leaf tensors made from the inputs each call); Tangent.

Method: every candidate of a workload is called the same way inside timeit's loop
(the ``call overhead`` rows show that common cost). The number of calls per
measurement is calibrated so that one measurement takes about --target-ms. Each repeat
times every candidate of every workload once, in a shuffled order (interleaving, so
drift in machine speed hits all of them alike); the reported time is the minimum over
repeats of the per-call time, and the ratio is that over the hand-written candidate's.
Tolerances of the gradient check: W1, W2 relative 1e-12 (srcad may sum in another
order); W3 max|got - ref| / max|ref| <= 1e-10 per gradient; W4 relative 1e-9. A srcad
candidate that fails its check stops the run (exit 1); a peer that fails is left out.

Run it:  python benchmarks/run.py            (full run, 2-4 min)
         python benchmarks/run.py --quick    (short run, < 60 s)
         python benchmarks/run.py --check    (exit 1 when a target is missed)
"""

from __future__ import annotations

import argparse
import datetime
import gc
import importlib.util
import math
import os
import platform
import random
import shutil
import sys
import tempfile
import time
import timeit
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run from a checkout without installing
    sys.path.insert(0, str(ROOT))

import srcad  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_timing import interleaved_min, pin_allocator  # noqa: E402

TARGETS = {"W1": 1.00, "W2": 1.00, "W3": 1.00, "W4": 1.5}
TRANSFORM_1000_TARGET_S = 0.25  # (issue 17: building it and its first call)
TRANSFORM_GROWTH_TARGET = 2.0
TRANSFORM_SIZES = (100, 1000, 4000)


# ---------------------------------------------------------------- loading by path


def load_module(relpath: str, modname: str):
    """Import ROOT/relpath as ``modname`` (registered, so inspect.getsource works)."""
    if modname in sys.modules:
        return sys.modules[modname]
    spec = importlib.util.spec_from_file_location(modname, ROOT / relpath)
    module = importlib.util.module_from_spec(spec)
    sys.modules[modname] = module
    spec.loader.exec_module(module)
    return module


# ---------------------------------------------------------------- hand-written W2


def five_inputs_grad_by_hand(x1, x2, x3, x4, x5):
    """Gradient of y = (x1 + x2) * x3 * (x4 * x5) ** 2, as an expert writes it."""
    # forward: only the values the backward pass reads
    s = x1 + x2
    p = x4 * x5
    p2 = p**2
    # backward: y = (s * x3) * p2
    ds = x3 * p2  # dy/ds = dy/dx1 = dy/dx2
    dp = 2 * p * (s * x3)  # dy/dp = s x3 * 2p
    return ds, ds, s * p2, x5 * dp, x4 * dp


def five_inputs_grad_tuned(x1, x2, x3, x4, x5):
    """The same, tuned for CPython: ``p * p`` instead of ``p**2`` (a ``pow`` call) and
    float constants (``2.0 * p``: an int operand misses the float fast path)."""
    s = x1 + x2
    p = x4 * x5
    p2 = p * p
    ds = x3 * p2
    dp = 2.0 * p * (s * x3)
    return ds, ds, s * p2, x5 * dp, x4 * dp


# ---------------------------------------------------------------- workloads


class Workload:
    """Candidates called as ``g(*args)``; ``hand`` is the reference and the ratio base."""

    def __init__(self, key, title, args, check, target):
        self.key, self.title, self.args, self.check, self.target = key, title, args, check, target
        self.candidates: dict[str, object] = {}
        self.notes: list[str] = []

    def add(self, name, fn):
        self.candidates[name] = fn

    def verify(self):
        """Drop peers whose gradient differs from the hand-written one; srcad must agree."""
        reference = self.candidates["hand"](*self.args)
        for name, fn in list(self.candidates.items()):
            if name == "hand":
                continue
            try:
                got = fn(*self.args)
                ok, detail = self.check(got, reference)
            except Exception as exc:  # noqa: BLE001 -- a failing peer is reported, not fatal
                ok, detail = False, f"raised {type(exc).__name__}: {exc}"
            if not ok:
                if name.startswith("srcad"):
                    raise SystemExit(f"{self.key} {name}: gradient check failed: {detail}")
                self.notes.append(f"{name} left out: {detail}")
                del self.candidates[name]
        self.candidates[f"call overhead ({len(self.args)} args)"] = _make_noop(len(self.args))


def _make_noop(n):
    def noop(*args):
        return None

    return noop


def _scalar_check(rel):
    def check(got, ref):
        got = got if isinstance(got, tuple | list) else (got,)
        ref = ref if isinstance(ref, tuple | list) else (ref,)
        if len(got) != len(ref):
            return False, f"{len(got)} gradients, expected {len(ref)}"
        for u, v in zip(got, ref, strict=True):
            if not math.isclose(float(u), float(v), rel_tol=rel, abs_tol=1e-300):
                return False, f"got {tuple(map(float, got))}, hand-written {tuple(ref)}"
        return True, ""

    return check


def _array_check(rel):
    def check(got, ref):
        if len(got) != len(ref):
            return False, f"{len(got)} gradients, expected {len(ref)}"
        worst = 0.0
        for g, r in zip(got, ref, strict=True):
            g = np.asarray(g, dtype=np.float64)
            if g.shape != r.shape:
                return False, f"shape {g.shape}, expected {r.shape}"
            worst = max(worst, float(np.max(np.abs(g - r)) / max(float(np.max(np.abs(r))), 1e-300)))
        if not worst <= rel:
            return False, f"max relative error {worst:.3g} > {rel}"
        return True, ""

    return check


def _optional(name):
    """Import an optional peer package, or None."""
    try:
        return importlib.import_module(name)
    except Exception:  # noqa: BLE001 -- any failure just leaves the peer out
        return None


def _jax_pair(workload, grad_fn, wrap, *, static_argnums=()):
    """Add ``jax (eager)`` and ``jax (jit)`` rows; returns the jit compile time (s) or None."""
    import jax

    eager = lambda *a: wrap(grad_fn(*a))  # noqa: E731
    workload.add("jax (eager)", eager)
    jitted = jax.jit(grad_fn, static_argnums=static_argnums)
    start = time.perf_counter()
    out = jitted(*workload.args)
    jax.block_until_ready(out)
    compile_s = time.perf_counter() - start
    workload.add("jax (jit)", lambda *a: wrap(jitted(*a)))
    return compile_s


def build_workloads(with_peers=True):
    sg = load_module("examples/sigmoid_gate.py", "srcad_examples_sigmoid_gate")
    cr = load_module("examples/chain_rule.py", "srcad_examples_chain_rule")
    mlp = load_module("benchmarks/mlp.py", "srcad_benchmarks_mlp")
    lp = load_module("benchmarks/loop.py", "srcad_benchmarks_loop")
    autograd = _optional("autograd") if with_peers else None
    jax = _optional("jax") if with_peers else None
    tangent = _optional("tangent") if with_peers else None
    torch = _optional("torch") if with_peers else None
    compile_times = {}

    # W1: the seed sigmoid gate
    w1 = Workload("W1", "seed sigmoid gate f(x, y), floats at (3, -4)",
                  tuple(sg.DEFAULT_POINT["f"]), _scalar_check(1e-12), TARGETS["W1"])
    w1.add("hand", sg.f_grad_by_hand)
    w1.add("srcad grad(f)", srcad.grad(sg.f, wrt=("x", "y")))
    w1.add("srcad grad(f_expr)", srcad.grad(sg.f_expr, wrt=("x", "y")))

    # W2: (x1 + x2) * x3 * (x4 * x5) ** 2
    w2 = Workload("W2", "(x1 + x2) * x3 * (x4 * x5) ** 2, floats",
                  tuple(cr.DEFAULT_POINT["five_inputs"]), _scalar_check(1e-12), TARGETS["W2"])
    w2.add("hand", five_inputs_grad_by_hand)
    w2.add("hand, tuned (p * p, 2.0)", five_inputs_grad_tuned)
    w2.add("srcad grad(five_inputs)", srcad.grad(cr.five_inputs, wrt=(0, 1, 2, 3, 4)))

    # W3: the MLP
    problem = mlp.make_problem(**mlp.SHAPES)
    w3 = Workload("W3", "2-layer tanh MLP + softmax CE, numpy, X 256x64",
                  problem, _array_check(1e-10), TARGETS["W3"])
    w3.add("hand", mlp.loss_grad_by_hand)
    w3.add("srcad grad(loss)", srcad.grad(mlp.loss, wrt=mlp.WRT))

    # W4: the 1000-iteration loop
    w4 = Workload("W4", f"scalar loop x = sin(x)*1.1 + 0.1*x, n = {lp.N}",
                  (lp.X0, lp.N), _scalar_check(1e-9), TARGETS["W4"])
    w4.add("hand", lp.loop_grad_by_hand)
    w4.add("srcad grad(loop)", srcad.grad(lp.loop, wrt=("x",)))

    if autograd is not None:
        try:
            import autograd.numpy as anp

            def f_ag(x, y):
                sigy = 1.0 / (1 + anp.exp(-y))
                sigx = 1.0 / (1 + anp.exp(-x))
                return (x + sigy) / (sigx + (x + y) ** 2)

            w1.add("autograd", _ag_all(autograd, f_ag, 2))

            def five_ag(x1, x2, x3, x4, x5):
                return (x1 + x2) * x3 * (x4 * x5) ** 2

            w2.add("autograd", _ag_all(autograd, five_ag, 5))

            def loss_ag(params, X, y):
                W1, b1, W2, b2 = params
                h = anp.tanh(anp.dot(X, W1) + b1)
                z = anp.dot(h, W2) + b2
                z = z - anp.max(z, axis=1, keepdims=True)
                logp = z - anp.log(anp.sum(anp.exp(z), axis=1, keepdims=True))
                return -anp.mean(logp[anp.arange(X.shape[0]), y])

            g3 = autograd.grad(loss_ag)
            w3.add("autograd", lambda W1, b1, W2, b2, X, y: g3((W1, b1, W2, b2), X, y))

            def loop_ag(x, n):
                for _ in range(n):
                    x = anp.sin(x) * 1.1 + 0.1 * x
                return x

            w4.add("autograd", autograd.grad(loop_ag))
        except Exception as exc:  # noqa: BLE001
            w1.notes.append(f"autograd left out: {type(exc).__name__}: {exc}")

    if jax is not None:
        try:
            import jax.numpy as jnp

            jax.config.update("jax_enable_x64", True)
            floats = lambda out: tuple(float(v) for v in out)  # noqa: E731

            def f_jax(x, y):
                sigy = 1.0 / (1 + jnp.exp(-y))
                sigx = 1.0 / (1 + jnp.exp(-x))
                return (x + sigy) / (sigx + (x + y) ** 2)

            compile_times["W1"] = _jax_pair(w1, jax.grad(f_jax, argnums=(0, 1)), floats)

            def five_jax(x1, x2, x3, x4, x5):
                return (x1 + x2) * x3 * (x4 * x5) ** 2

            compile_times["W2"] = _jax_pair(w2, jax.grad(five_jax, argnums=(0, 1, 2, 3, 4)),
                                            floats)

            def loss_jax(W1, b1, W2, b2, X, y):
                h = jnp.tanh(X @ W1 + b1)
                z = h @ W2 + b2
                logp = jax.nn.log_softmax(z, axis=1)
                return -jnp.mean(logp[jnp.arange(X.shape[0]), y])

            arrays = lambda out: tuple(np.asarray(g) for g in out)  # noqa: E731
            compile_times["W3"] = _jax_pair(w3, jax.grad(loss_jax, argnums=(0, 1, 2, 3)), arrays)

            def loop_jax(x, n):
                return jax.lax.fori_loop(0, n, lambda i, v: jnp.sin(v) * 1.1 + 0.1 * v, x)

            compile_times["W4"] = _jax_pair(w4, jax.grad(loop_jax), float, static_argnums=(1,))
        except Exception as exc:  # noqa: BLE001
            w1.notes.append(f"jax left out: {type(exc).__name__}: {exc}")

    if torch is not None:
        try:
            _torch_rows(torch, w1, w2, w3, w4)
        except Exception as exc:  # noqa: BLE001
            w1.notes.append(f"torch left out: {type(exc).__name__}: {exc}")

    if tangent is not None:
        try:
            w1.add("tangent", tangent.grad(_tangent_sigmoid, wrt=(0, 1)))
            w2.add("tangent", tangent.grad(_tangent_five, wrt=(0, 1, 2, 3, 4)))
        except Exception as exc:  # noqa: BLE001
            w1.notes.append(f"tangent left out: {type(exc).__name__}: {exc}")

    workloads = [w1, w2, w3, w4]
    for w in workloads:
        w.verify()
    return workloads, compile_times


def _torch_rows(torch, w1, w2, w3, w4):
    """PyTorch (CPU, eager, float64) rows: each call makes leaf tensors of the inputs,
    runs the function and ``torch.autograd.grad``, and returns numpy values, as a user
    differentiating numpy-valued code with PyTorch would."""
    torch.set_num_threads(1)

    def leaves(*values):
        return [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in values]

    def f_torch(x, y):
        x, y = leaves(x, y)
        sigy = 1.0 / (1 + torch.exp(-y))
        sigx = 1.0 / (1 + torch.exp(-x))
        out = (x + sigy) / (sigx + (x + y) ** 2)
        return tuple(float(g) for g in torch.autograd.grad(out, (x, y)))

    w1.add("torch", f_torch)

    def five_torch(*values):
        x1, x2, x3, x4, x5 = inputs = leaves(*values)
        out = (x1 + x2) * x3 * (x4 * x5) ** 2
        return tuple(float(g) for g in torch.autograd.grad(out, inputs))

    w2.add("torch", five_torch)

    def loss_torch(W1, b1, W2, b2, X, y):
        params = leaves(W1, b1, W2, b2)
        W1_, b1_, W2_, b2_ = params
        Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
        h = torch.tanh(Xt @ W1_ + b1_)
        z = h @ W2_ + b2_
        logp = torch.log_softmax(z, dim=1)
        out = -logp[torch.arange(X.shape[0]), yt].mean()
        return tuple(g.numpy() for g in torch.autograd.grad(out, params))

    w3.add("torch", loss_torch)

    def loop_torch(x, n):
        (x0,) = leaves(x)
        v = x0
        for _ in range(n):
            v = torch.sin(v) * 1.1 + 0.1 * v
        return float(torch.autograd.grad(v, x0)[0])

    w4.add("torch", loop_torch)


def _ag_all(autograd, fn, n):
    """One autograd.grad per argument (its argnum takes one position)."""
    grads = [autograd.grad(fn, i) for i in range(n)]
    return lambda *args: tuple(g(*args) for g in grads)


def _tangent_sigmoid(x, y):
    sigy = 1.0 / (1.0 + math.exp(-y))
    sigx = 1.0 / (1.0 + math.exp(-x))
    return (x + sigy) / (sigx + (x + y) ** 2.0)


def _tangent_five(x1, x2, x3, x4, x5):
    return (x1 + x2) * x3 * (x4 * x5) ** 2.0


# ---------------------------------------------------------------- timing the workloads


def _timer(fn, args):
    return timeit.Timer("g(*a)", globals={"g": fn, "a": args})


def measure(workloads, repeats, target_s, budget_s, seed=0):
    """Min per-call time of every candidate, interleaved across all workloads."""
    entries = [(w, name, _timer(fn, w.args))
               for w in workloads for name, fn in w.candidates.items()]
    timers = {(w.key, name): timer for w, name, timer in entries}
    return interleaved_min(timers, repeats, target_s, budget_s, seed, floor_seconds=0.002)


# ---------------------------------------------------------------- transform time


def straight_line_source(n_statements: int, seed: int) -> str:
    """``def f(a, b)``: n statements of 2-4 operations each over earlier values, as issue
    17 states the workload (``a7 = a6 / (1.0 + a6 * a6)``): + - * /, math.sin and
    math.tanh."""
    rng = random.Random(seed)
    names = ["a", "b"]
    lines = ["import math", "", "", "def f(a, b):"]
    for i in range(n_statements):
        u = rng.choice(names[-8:])  # mostly recent values: a deep, connected graph
        w, z = rng.choice(names), rng.choice(names[-4:])
        kind = rng.random()
        if kind < 0.25:
            expr = f"{u} / (1.0 + {u} * {u})"
        elif kind < 0.5:
            expr = f"math.sin({u}) * {w} + {z}"
        elif kind < 0.75:
            expr = f"({u} - {w}) * 0.5 + math.tanh({z})"
        else:
            expr = f"{u} * {w} - {z} * 0.25"
        lines.append(f"    v{i} = {expr}")
        names.append(f"v{i}")
    lines.append(f"    return {' + '.join(names[-4:])}")
    return "\n".join(lines) + "\n"


class TransformBench:
    """Writes each generated function to its own new module file under a temp directory."""

    def __init__(self):
        self.dir = Path(tempfile.mkdtemp(prefix="srcad_transform_"))
        self.count = 0

    def new_function(self, n_statements, seed):
        self.count += 1
        modname = f"srcad_transform_{os.getpid()}_{self.count}"
        path = self.dir / f"{modname}.py"
        path.write_text(straight_line_source(n_statements, seed))
        spec = importlib.util.spec_from_file_location(modname, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[modname] = module
        spec.loader.exec_module(module)
        return module.f

    def time_build(self, n_statements, seed):
        """Seconds for ``srcad.grad(f)``, and for it and the gradient's first call."""
        f = self.new_function(n_statements, seed)
        gc.collect()
        start = time.perf_counter()
        g = srcad.grad(f, wrt=(0, 1))
        built = time.perf_counter()
        g(0.3, 0.7)
        called = time.perf_counter()
        return (built - start, called - start), f, g

    def close(self):
        shutil.rmtree(self.dir, ignore_errors=True)


def measure_transform(repeats, sizes=TRANSFORM_SIZES, seed=1000):
    bench = TransformBench()
    try:
        bench.time_build(50, seed - 1)  # warm-up: imports, rule table, first compile
        best = dict.fromkeys(sizes, math.inf)
        first_call = dict.fromkeys(sizes, math.inf)  # grad(f) and its first call
        rng = random.Random(seed)
        s = seed
        for _ in range(repeats):
            order = list(sizes)
            rng.shuffle(order)
            for n in order:
                s += 1
                (elapsed, with_call), f, g = bench.time_build(n, s)
                best[n] = min(best[n], elapsed)
                first_call[n] = min(first_call[n], with_call)
        # sanity: the last function's gradient is finite and matches the unoptimized one
        g_plain = srcad.grad(f, wrt=(0, 1), optimize=False)
        got, plain = g(0.3, 0.7), g_plain(0.3, 0.7)
        ok = all(math.isclose(u, v, rel_tol=1e-9, abs_tol=1e-12)
                 or (math.isnan(u) and math.isnan(v))
                 for u, v in zip(got, plain, strict=True))
        # cached grad(f): the second call on the same function object
        cached_timer = timeit.Timer("grad(f)", globals={"grad": srcad.grad, "f": f})
        n = 1000
        cached = min(cached_timer.repeat(repeat=5, number=n)) / n
        return best, first_call, cached, ok
    finally:
        bench.close()


# ---------------------------------------------------------------- report


def machine_info():
    try:
        cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo")
                    if line.startswith("model name")), platform.processor())
    except OSError:
        cpu = platform.processor()
    return (f"date {datetime.datetime.now().astimezone().isoformat(timespec='seconds')}\n"
            f"machine {platform.platform()}; {os.cpu_count()} CPUs ({cpu})\n"
            f"python {platform.python_version()}; numpy {np.__version__}; "
            f"srcad {getattr(srcad, '__version__', '?')}")


def _fmt_time(seconds):
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.3f} ms"
    if seconds >= 1e-6:
        return f"{seconds * 1e6:.2f} us"
    return f"{seconds * 1e9:.1f} ns"


def report(workloads, best, numbers, done, transform, compile_times):
    lines, missed = [], []
    lines.append(f"{'workload / candidate':<38}{'time/call':>12}{'calls/meas':>12}"
                 f"{'vs hand':>9}  target")
    for w in workloads:
        lines.append(f"{w.key}: {w.title}")
        hand = best[(w.key, "hand")]
        for name in w.candidates:
            t = best[(w.key, name)]
            overhead = name.startswith("call overhead")
            ratio = "-" if overhead else f"{t / hand:.3f}"
            verdict = ""
            if name.startswith("srcad"):
                met = t / hand <= w.target
                verdict = f"<= {w.target:.2f} {'met' if met else 'NOT met'}"
                if not met:
                    missed.append(f"{w.key} {name}: {t / hand:.3f} > {w.target}")
            lines.append(f"  {name:<36}{_fmt_time(t):>12}{numbers[(w.key, name)]:>12}"
                         f"{ratio:>9}  {verdict}")
        if w.key in compile_times:
            lines.append(f"  {'(jax jit compile, once)':<36}{_fmt_time(compile_times[w.key]):>12}")
        for note in w.notes:
            lines.append(f"  note: {note}")
    lines.append(f"(min over {done} interleaved repeats)")
    if transform is not None:
        t_best, first_call, cached, ok = transform
        lines.append("T: transform time, srcad.grad(f) of a new straight-line function "
                     "(2 float params); then with the gradient's first call")
        per_stmt = {}
        for n, t in t_best.items():
            per_stmt[n] = t / n
            lines.append(f"  {n:>5} statements{'':<20}{t * 1e3:>9.1f} ms"
                         f"{t / n * 1e6:>10.1f} us/stmt")
            t_call = first_call[n]
            verdict = ""
            if n == 1000:
                met = t_call <= TRANSFORM_1000_TARGET_S
                verdict = f"<= {TRANSFORM_1000_TARGET_S} s {'met' if met else 'NOT met'}"
                if not met:
                    missed.append(f"T transform of 1000 statements and first call: {t_call:.3f} s")
            lines.append(f"  {'':>5} {'and its first call':<30}{t_call * 1e3:>9.1f} ms"
                         f"{t_call / n * 1e6:>10.1f} us/stmt  {verdict}")
        lo, hi = min(t_best), max(t_best)
        growth = per_stmt[hi] / per_stmt[lo]
        met = growth < TRANSFORM_GROWTH_TARGET
        if not met:
            missed.append(f"T us/statement growth {lo}->{hi}: {growth:.2f}")
        lines.append(f"  us/statement growth {lo} -> {hi}: {growth:.2f}x"
                     f"  (target < {TRANSFORM_GROWTH_TARGET:.0f}x: {'met' if met else 'NOT met'})")
        lines.append(f"  cached srcad.grad(f) (same function again): {_fmt_time(cached)}")
        if not ok:
            lines.append("  WARNING: the optimized and unoptimized gradients of the generated "
                         "function differ")
            missed.append("T generated function: optimized != unoptimized gradient")
    return "\n".join(lines), missed


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short run (< 60 s)")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--no-peers", action="store_true", help="skip autograd / jax / tangent")
    parser.add_argument("--no-transform", action="store_true", help="skip the transform-time rows")
    args = parser.parse_args(argv)
    if args.quick:
        repeats, target_s, budget_s, t_repeats = 15, 0.010, 20.0, 1
    else:
        repeats, target_s, budget_s, t_repeats = 60, 0.030, 120.0, 3

    pinned = pin_allocator()  # (numpy's timings as the same state of malloc gives them)
    started = time.perf_counter()
    print(machine_info())
    print("(a shared machine: absolute times are noisy, the ratios are what matter)")
    print(f"(malloc's mmap threshold pinned at 4 MB: {'yes' if pinned else 'no, not glibc'})")
    workloads, compile_times = build_workloads(with_peers=not args.no_peers)
    best, numbers, done = measure(workloads, repeats, target_s, budget_s)
    transform = None if args.no_transform else measure_transform(t_repeats)
    text, missed = report(workloads, best, numbers, done, transform, compile_times)
    print(text)
    print(f"targets missed: {len(missed)}" + "".join(f"\n  {m}" for m in missed))
    print(f"total {time.perf_counter() - started:.0f} s")
    if args.check and missed:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
