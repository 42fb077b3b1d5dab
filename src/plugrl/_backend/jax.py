"""The functional core: train states, jitted update steps, randomness and weight transfer.

Everything here is a pure function over explicit pytrees. Keras models are only ever called
through :meth:`keras.Model.stateless_call` inside these functions, so a compiled step never reads
or writes a Keras variable, and the same step can later be ``vmap``-ed over seeds.

A train state holds plain tuples of arrays in the order of the model's ``trainable_variables``
and ``non_trainable_variables``; that order is also the order in which weights are exported.
"""

from __future__ import annotations

import concurrent.futures
from collections.abc import Callable, Iterator, Sequence
from typing import Any, NamedTuple, cast

import jax
import jax.numpy as jnp
import keras
import numpy as np
import optax
from jax.flatten_util import ravel_pytree

from plugrl._backend.jax_config import COMPILER_OPTIONS, jit, jit_for
from plugrl._backend.jax_random import (  # noqa: F401  (part of the core's interface)
    batched_initialization,
    gumbel_noise,
    is_concrete,
    normal_noise,
    prng_key,
    random_argmax,
    seeded_initialization,
    split_key,
)

Params = tuple[jax.Array, ...]
Batch = Any
#: ``loss_fn(params, state, batch, key) -> (loss, (non_trainable, metrics))``, as
#: :func:`train_step` takes it; ``metrics`` are the loss's own scalars by name, which the step
#: packs into one :class:`Metrics` with the loss and the gradient norm.
LossFn = Callable[[Params, "TrainState", Batch, jax.Array],
                  tuple[jax.Array, tuple[Params, dict[str, jax.Array]]]]

__all__ = [
    "Array",
    "COMPILER_OPTIONS",
    "GradientHook",
    "LossFn",
    "Metrics",
    "Optimizer",
    "Params",
    "TrainState",
    "adam",
    "as_optax",
    "batched_initialization",
    "compile_concurrently",
    "copy_arrays",
    "export_weights",
    "gumbel_noise",
    "import_weights",
    "init_train_state",
    "is_concrete",
    "in_chunks",
    "jit",
    "jit_for",
    "make_train_step",
    "members",
    "minibatch_epochs",
    "named_vmap",
    "normal_noise",
    "on_raveled_params",
    "polyak",
    "prng_key",
    "per_group",
    "random_argmax",
    "seeded_initialization",
    "sgd",
    "split_key",
    "split_keys",
    "scan_recomputing",
    "scan_steps",
    "scheduled_adam",
    "sync_target",
    "to_device",
    "to_host",
    "train_step",
    "unraveler",
    "with_gradient_clipping",
    "with_learning_rate",
]


class TrainState(NamedTuple):
    """Everything an update step reads and writes, as one pytree.

    Attributes
    ----------
    params : tuple of arrays
        Trainable variables, in ``model.trainable_variables`` order.
    non_trainable : tuple of arrays
        Non-trainable variables (batch-norm statistics, seed-generator states).
    target_params : 1d array
        The target model's trainable weights (a slowly moving copy used for bootstrapping and
        as the "old" policy), raveled into one vector; :meth:`targets` gives them as a tuple.
    target_non_trainable : tuple of arrays
        The target model's non-trainable variables.
    opt_state : optax.OptState
        The optimizer's state for ``params``.

    Notes
    -----
    Each leaf costs a few microseconds every time a jitted function is called, which is most of
    the cost of a small update step on a CPU. The target weights are therefore kept as one
    vector, and optimizers run on raveled parameters (:func:`optax.flatten`).
    """

    params: Params
    non_trainable: Params
    target_params: jax.Array
    target_non_trainable: Params
    opt_state: optax.OptState

    def targets(self) -> Params:
        """The target model's trainable weights, in the same structure as ``params``."""
        return ravel_pytree(self.params)[1](self.target_params)

    def with_targets(self, targets: Params) -> TrainState:
        """A copy whose target trainable weights are ``targets`` (structured like ``params``)."""
        return self._replace(target_params=ravel_pytree(tuple(targets))[0])


def copy_arrays(values: Sequence[Any]) -> Params:
    """Copy values into fresh JAX arrays.

    Keras hands out its variables' own buffers; copying them means that neither a compiled step
    nor a later write-back into the model can invalidate the other's memory.
    """
    # Through host memory and ``jax.device_put``: a device-side copy, or ``jnp.asarray`` of a
    # NumPy array, compiles one kernel per shape, and building an agent copies dozens of arrays.
    return tuple(jax.tree_util.tree_map(lambda v: jax.device_put(np.array(v, copy=True)), tuple(values)))


class HostArray(NamedTuple):
    """A JAX array's value on the host, as :func:`to_host` leaves it."""

    value: np.ndarray


def to_host(tree: Any) -> Any:
    """``tree`` with every JAX array replaced by a :class:`HostArray` copy (to pickle it)."""
    return jax.tree_util.tree_map(
        lambda v: HostArray(np.array(v, copy=True)) if isinstance(v, jax.Array) else v, tree)


def to_device(tree: Any) -> Any:
    """The inverse of :func:`to_host`: every :class:`HostArray` of ``tree`` back as a JAX array."""
    return jax.tree_util.tree_map(
        lambda v: jax.device_put(v.value) if isinstance(v, HostArray) else v, tree,
        is_leaf=lambda v: isinstance(v, HostArray))


def init_train_state(
    params: Sequence[Any], non_trainable: Sequence[Any], optimizer: optax.GradientTransformation
) -> TrainState:
    """Create a train state whose target starts as an exact copy of the primary weights."""
    params, non_trainable = copy_arrays(params), copy_arrays(non_trainable)

    # One compiled function instead of a small compiled kernel per array shape.
    @jit
    def derived(params: Params, non_trainable: Params) -> tuple[Any, Params]:
        return ravel_pytree(params)[0], jax.tree_util.tree_map(jnp.copy, non_trainable)

    @jit
    def optimizer_state(params: Params) -> Any:
        return optimizer.init(params)

    target_params, target_non_trainable = derived(params, non_trainable)
    try:
        opt_state = optimizer_state(params)
    except (jax.errors.ConcretizationTypeError, jax.errors.TracerArrayConversionError):
        opt_state = optimizer.init(params)  # a Keras optimizer builds its variables eagerly
    return TrainState(params=params, non_trainable=non_trainable, target_params=target_params,
                      target_non_trainable=target_non_trainable, opt_state=opt_state)


class Metrics:
    """Named scalar metrics packed into one array, so a jitted step returns a single leaf.

    Behaves as a read-only mapping from names to scalars; :meth:`to_dict` gives Python floats
    with a single device-to-host transfer.
    """

    def __init__(self, names: tuple[str, ...], values: jax.Array) -> None:
        self.names = names
        self.values = values

    @classmethod
    def pack(cls, metrics: dict[str, Any]) -> Metrics:
        names = tuple(sorted(metrics))
        return cls(names, jnp.stack([jnp.asarray(metrics[n], jnp.float32) for n in names]))

    def to_dict(self) -> dict[str, float]:
        return dict(zip(self.names, np.asarray(self.values).tolist()))

    def __getitem__(self, name: str) -> jax.Array:
        return self.values[self.names.index(name)]

    def __iter__(self) -> Iterator[str]:
        return iter(self.names)

    def tree_flatten(self) -> tuple[tuple[jax.Array], tuple[str, ...]]:
        return (self.values,), self.names

    @classmethod
    def tree_unflatten(cls, names: tuple[str, ...], children: tuple[jax.Array]) -> Metrics:
        return cls(names, children[0])


jax.tree_util.register_pytree_node_class(Metrics)


#: ``gradient_hook(params, grads) -> grads``, as :func:`train_step` takes it: what the optimizer
#: sees instead of the loss's gradients (SVPG's Stein direction).
GradientHook = Callable[[Any, Any], Any]


def train_step(
    loss_fn: LossFn, optimizer: optax.GradientTransformation, name: str, *, with_outputs: bool = False,
    gradient_hook: GradientHook | None = None,
) -> Callable[[TrainState, Batch, jax.Array], tuple[TrainState, Any]]:
    r"""Turn a loss written in ``keras.ops`` into one pure update step (not yet jitted).

    This is the one optimizer step of plugrl: the seed-level updaters, the actor-critics, the
    on-policy learner, its fast path, DQN and SAC all step through it.

    Parameters
    ----------
    loss_fn : callable
        ``loss_fn(params, state, batch, key) -> (loss, (non_trainable, metrics))``: the scalar
        loss to minimise, differentiated with respect to ``params`` only; ``state`` gives access
        to the non-trainable and target variables. With ``with_outputs``, the auxiliary tuple
        has a third entry: per-sample outputs (e.g. TD errors, for replay priorities).
    optimizer : optax.GradientTransformation
        Turns gradients into parameter updates.
    name : str
        Prefix of the ``"<name>/loss"`` and ``"<name>/grad_norm"`` metrics added to the loss's own.
    with_outputs : bool, optional
        Whether the loss returns per-sample outputs, which the step then returns too.
    gradient_hook : callable, optional
        ``gradient_hook(params, grads) -> grads``: replaces the gradients before the optimizer
        step (the ``"grad_norm"`` metric stays the loss's). Under :func:`named_vmap` it may
        combine the gradients of all members of the mapped axis (SVPG's particles).

    Returns
    -------
    step : callable
        ``step(state, batch, key) -> (state, metrics)``, or ``(state, (metrics, outputs))`` with
        ``with_outputs``; ``metrics`` is a :class:`Metrics`. Both forms are ``lax.scan`` bodies'
        ``(carry, output)`` pairs, as :func:`scan_steps` takes them.
    """
    grad_fn = jax.value_and_grad(loss_fn, has_aux=True)

    def step(state: TrainState, batch: Batch, key: jax.Array) -> tuple[TrainState, Any]:
        (loss, aux), grads = grad_fn(state.params, state, batch, key)
        non_trainable, metrics, *outputs = aux
        direction = grads if gradient_hook is None else gradient_hook(state.params, grads)
        updates, opt_state = optimizer.update(direction, state.opt_state, state.params)
        params = optax.apply_updates(state.params, updates)
        metrics = Metrics.pack({**metrics, f"{name}/loss": loss,
                                f"{name}/grad_norm": optax.global_norm(grads)})
        new_state = state._replace(params=params, non_trainable=non_trainable, opt_state=opt_state)
        return (new_state, (metrics, outputs[0])) if with_outputs else (new_state, metrics)

    return step


def make_train_step(
    loss_fn: LossFn, optimizer: optax.GradientTransformation, name: str, *, with_outputs: bool = False
) -> Callable[[TrainState, Batch, jax.Array], tuple[TrainState, Any]]:
    """:func:`train_step`, compiled with :func:`jax.jit` (once per input shape)."""
    return jit(train_step(loss_fn, optimizer, name, with_outputs=with_outputs))


def scan_recomputing(step: Callable[[Any, Any], tuple[Any, Any]], init: Any, xs: Any) -> tuple[Any, Any]:
    """``lax.scan(step, init, xs)`` whose gradient recomputes each step's intermediates from
    its carry (``jax.checkpoint`` with nothing saved) instead of storing them all: a recurrent
    network's scan over a sequence then writes only its state per step. On 2 cores the PPO update
    of two 64-unit LSTMs over 32 steps of 8 sequences (20 epochs) took 43 ms of CPU time instead
    of 60 ms (medians of 15), as the stored intermediates cost a kernel each per step."""
    return jax.lax.scan(jax.checkpoint(step, policy=jax.checkpoint_policies.nothing_saveable), init, xs)


def scan_steps(step: Callable[[Any, Any], tuple[Any, Any]], state: Any,
               xs: Any, *, unroll: bool = False) -> tuple[Any, Any, Any]:
    """Run ``step(state, x)`` for every ``x`` along the leading axis of ``xs`` (``lax.scan``):
    K gradient steps inside one trace, the one such loop of plugrl.

    ``step`` returns ``(state, metrics)`` or ``(state, (metrics, outputs))``, as the steps of
    :func:`train_step` do. Returns the final state, the metrics averaged over the K steps, and
    the per-step outputs stacked along a leading axis of size K (None without outputs).

    ``unroll`` traces the K steps one after another, with no loop in the compiled program:
    slower to compile, but XLA's CPU backend runs convolutions inside a loop (even a fully
    unrolled ``lax.scan``, which keeps a one-trip loop) many times slower. The Nature-DQN
    gradient on 256 Atari observations took 3.8 s in a one-step ``lax.scan``, 0.44 s outside
    it; DQN's update on 32 took 260 ms in a one-step scan, 38 ms traced (2 cores). Networks
    with convolutions unroll.
    """
    if unroll:
        num_steps = jax.tree_util.tree_leaves(xs)[0].shape[0]
        outputs = []
        for i in range(num_steps):
            state, y = step(state, jax.tree_util.tree_map(lambda x, i=i: x[i], xs))
            outputs.append(y)
        ys = jax.tree_util.tree_map(lambda *y: jnp.stack(y), *outputs)
    else:
        state, ys = jax.lax.scan(step, state, xs)
    metrics, outputs = ys if isinstance(ys, tuple) else (ys, None)
    return state, jax.tree_util.tree_map(lambda m: m.mean(axis=0), metrics), outputs


def in_chunks(fn: Callable[[jax.Array], Any], X: jax.Array, size: int) -> Any:
    """``fn(X)``, computed on consecutive chunks of ``size`` rows of ``X`` (the last may be
    smaller) traced one after another, the outputs (any pytree of arrays with a leading batch
    axis) concatenated.

    For convolutional networks on the CPU: XLA's convolutions ran 2.5 times faster per sample on
    chunks of 32 than on 256 at once (the Nature-DQN gradient on 256 Atari observations, 154 ms
    in 8 chunks against 386 ms; 2 quiet cores), the gradient being the same.
    """
    if X.shape[0] <= size:
        return fn(X)
    outputs = [fn(X[i:i + size]) for i in range(0, X.shape[0], size)]
    return jax.tree_util.tree_map(lambda *chunks: jnp.concatenate(chunks), *outputs)


def minibatch_epochs(step: Callable[[TrainState, Batch, jax.Array], tuple[TrainState, Metrics]],
                     state: TrainState, batch: Batch, indices: jax.Array,
                     key: jax.Array, *, unroll: bool = False) -> tuple[TrainState, Metrics]:
    """Run ``step(state, minibatch, key)`` over the minibatches ``batch[indices[e, m]]`` of every
    epoch ``e`` (:func:`scan_steps`, in epoch order); the metrics are averaged over all steps.

    ``indices`` [num_epoch, num_minibatches, batch_size] holds the shuffles, drawn on the host:
    a permutation inside the compiled program (a sort on the CPU) took longer to compile than
    the whole update. Each epoch gathers its shuffle of the batch once and steps through
    contiguous minibatches of it; a gather per step was no faster (fast path at PureJaxRL's
    settings: 167.0k against 169.5k env steps/s, medians of 8 alternating runs on 2 shared
    cores, within their spread). ``key`` is a raw key, split into one per step, or those keys already,
    [num_epoch, num_minibatches, 2]: the fast path draws them with its other random numbers,
    as a split in its compiled loop took 0.1-0.3 s more to compile (on 2 cores). ``unroll``
    as in :func:`scan_steps`, for both loops.
    """
    num_epoch, num_minibatches = indices.shape[:2]
    keys = (jax.random.split(key, num_epoch * num_minibatches).reshape(num_epoch, num_minibatches, -1)
            if key.ndim == 1 else key)

    def epoch(state: TrainState, xs: tuple) -> tuple[TrainState, Metrics]:
        order, epoch_keys = xs
        shuffled = jax.tree_util.tree_map(
            lambda x: x[order].reshape(num_minibatches, -1, *x.shape[1:]), batch)
        state, metrics, _ = scan_steps(lambda st, ys: step(st, *ys), state, (shuffled, epoch_keys),
                                       unroll=unroll)
        return state, metrics

    state, metrics, _ = scan_steps(epoch, state, (indices.reshape(num_epoch, -1), keys), unroll=unroll)
    return state, metrics


def scheduled_adam(learning_rate: float, max_grad_norm: float | None,
                   raveled: bool = False) -> optax.GradientTransformation:
    """Adam (epsilon 1e-5, as SB3) after optional global-norm gradient clipping, with a learning
    rate that :func:`with_learning_rate` can change from one update to the next.

    With ``raveled``, Adam runs on the raveled parameters (:func:`optax.flatten`): a few
    operations on one vector instead of a few per weight array, which made up a third of a
    small actor-critic's update. For larger networks the copies cost more than they save (a
    256x256 Q-network's step was 17% slower), so it is a choice. The gradient norm is taken
    per array either way.
    """

    def make(learning_rate: float) -> optax.GradientTransformation:
        adam = optax.adam(learning_rate, eps=1e-5)
        if raveled:
            adam = optax.flatten(adam)
        return with_gradient_clipping(adam, max_grad_norm)

    return optax.inject_hyperparams(make)(learning_rate=learning_rate)


def with_gradient_clipping(optimizer: optax.GradientTransformation,
                           max_grad_norm: float | None) -> optax.GradientTransformation:
    """``optimizer`` after clipping the gradients to the global norm ``max_grad_norm`` (None:
    ``optimizer`` itself)."""
    if max_grad_norm is None:
        return optimizer
    return optax.chain(optax.clip_by_global_norm(max_grad_norm), optimizer)


def with_learning_rate(opt_state: Any, learning_rate: Any) -> Any:
    """An ``optax.inject_hyperparams`` state with its ``learning_rate`` replaced."""
    return opt_state._replace(hyperparams={**opt_state.hyperparams, "learning_rate": learning_rate})


def polyak(target: Params, source: Params, tau: float | jax.Array) -> Params:
    r"""Polyak averaging, :math:`w_\text{target} \leftarrow (1-\tau)\,w_\text{target} + \tau\,w`.

    Integer variables (such as seed-generator states) cannot be averaged; they are copied.
    """
    return tuple(
        (1.0 - tau) * t + tau * s if jnp.issubdtype(t.dtype, jnp.floating) else s
        for t, s in zip(target, source, strict=True)
    )


@jax.jit
def sync_target(state: TrainState, tau: float | jax.Array = 1.0) -> TrainState:
    """Move the target weights towards the primary weights by ``tau`` (1 copies them)."""
    (target_params,) = polyak((state.target_params,), (ravel_pytree(state.params)[0],), tau)
    return state._replace(
        target_params=target_params,
        target_non_trainable=polyak(state.target_non_trainable, state.non_trainable, tau),
    )


def export_weights(values: Sequence[jax.Array]) -> list[np.ndarray]:
    """Weights as NumPy arrays (copies), in the order given."""
    return [np.array(v, copy=True) for v in values]


def import_weights(template: Sequence[jax.Array], values: Sequence[Any], *, name: str = "weights") -> Params:
    """Check NumPy weights against a template and turn them into JAX arrays.

    Raises
    ------
    ValueError
        If the number of arrays, a shape or a dtype kind differs from the template.
    """
    values = list(values)
    if len(values) != len(template):
        raise ValueError(f"{name}: expected {len(template)} arrays, got {len(values)}")
    out = []
    for i, (t, v) in enumerate(zip(template, values)):
        v = np.asarray(v)
        if v.shape != t.shape:
            raise ValueError(f"{name}[{i}]: expected shape {t.shape}, got {v.shape}")
        if not np.can_cast(v.dtype, t.dtype, casting="same_kind"):
            raise ValueError(f"{name}[{i}]: expected dtype {t.dtype}, got {v.dtype}")
        out.append(jax.device_put(v.astype(t.dtype, copy=False)))  # no kernel, unlike jnp.asarray
    return tuple(out)


class _KerasOptimizerState(NamedTuple):
    variables: Params


def as_optax(optimizer: Any) -> optax.GradientTransformation:
    """Accept an optax transformation or a Keras optimizer; return an optax transformation
    that works on raveled parameters (see :class:`TrainState`).

    A Keras optimizer is used through its stateless API; a fresh copy is built for each set of
    parameters, so one optimizer object can serve several function approximators.
    """
    return optax.flatten(_as_optax(optimizer))


def _as_optax(optimizer: Any) -> optax.GradientTransformation:
    if isinstance(optimizer, optax.GradientTransformation):
        return optimizer
    if not isinstance(optimizer, keras.optimizers.Optimizer):
        raise TypeError(
            "optimizer: expected an optax.GradientTransformation or a keras.optimizers.Optimizer, "
            f"got {type(optimizer).__name__}"
        )
    config = optimizer.get_config()
    # One built Keras optimizer per parameter signature: a function approximator's optimizer
    # serves each head on it and the union of its heads in an actor-critic (``per_group``),
    # each a vector of another length once raveled, and a Keras optimizer is built for the
    # shapes of its variables.
    built: dict[tuple, keras.optimizers.Optimizer] = {}

    def build_for(leaves: Sequence[Any]) -> keras.optimizers.Optimizer:
        signature = tuple((tuple(p.shape), jnp.dtype(p.dtype).name) for p in leaves)
        if signature not in built:
            # Concrete variables even when first met under ``jit`` (the constructor makes the
            # iteration counter): their values are the initial optimizer state, not a tracer.
            with jax.ensure_compile_time_eval():
                opt = optimizer.__class__.from_config(config)
                opt.build([keras.Variable(np.zeros(shape, dtype)) for shape, dtype in signature])
            built[signature] = opt
        return built[signature]

    def init(params: Any) -> _KerasOptimizerState:
        opt = build_for(jax.tree_util.tree_leaves(params))
        return _KerasOptimizerState(copy_arrays([v.value for v in opt.variables]))

    def update(grads: Any, state: _KerasOptimizerState, params: Any = None):
        if params is None:
            raise ValueError("a Keras optimizer needs the current params to compute updates")
        leaves, treedef = jax.tree_util.tree_flatten(params)
        new_leaves, new_vars = build_for(leaves).stateless_apply(
            list(state.variables), jax.tree_util.tree_leaves(grads), leaves)
        updates = [n - p for n, p in zip(new_leaves, leaves)]
        return jax.tree_util.tree_unflatten(treedef, updates), _KerasOptimizerState(tuple(new_vars))

    return optax.GradientTransformation(init, update)




def compile_concurrently(
    programs: Sequence[tuple[jax.stages.Wrapped, tuple[Any, ...]]],
) -> list[jax.stages.Compiled]:
    """Compile each ``(jitted function, arguments)`` pair, each in a thread of its own.

    XLA releases the GIL while it compiles, and does not keep two cores busy with one
    program, so programs compiled side by side take less wall time than one after the other
    (the fast path's chunk and evaluation: 2.3 s instead of 2.8-3.0 s). Tracing holds the GIL:
    programs are traced in order, each compiling as soon as it is traced (put the quick ones
    first). The arguments may be arrays or ``jax.ShapeDtypeStruct``; returns the compiled
    programs (``jax.stages.Compiled``), which take arguments of those shapes.
    """
    with concurrent.futures.ThreadPoolExecutor(len(programs)) as pool:
        pending = [pool.submit(function.lower(*args).compile) for function, args in programs]
        return [future.result() for future in pending]


def split_keys(key: jax.Array, num: int) -> jax.Array:
    """``num`` independent subkeys of a raw JAX key, stacked [num, ...] (e.g. one per step of
    :func:`scan_steps`); traceable."""
    return jax.random.split(key, num)


def per_group(optimizers: Sequence[optax.GradientTransformation]) -> optax.GradientTransformation:
    """One optimizer over a tuple of parameter groups, each group with its own optimizer."""

    def init(params: tuple) -> tuple:
        return tuple(opt.init(p) for opt, p in zip(optimizers, params, strict=True))

    def update(grads: tuple, state: tuple, params: tuple | None = None) -> tuple[tuple, tuple]:
        params = params if params is not None else (None,) * len(optimizers)
        results = [opt.update(g, s, p) for opt, g, s, p in zip(optimizers, grads, state, params)]
        return tuple(r[0] for r in results), tuple(r[1] for r in results)

    return optax.GradientTransformation(init, update)


def on_raveled_params(
    update: Callable[[TrainState, Callable[[jax.Array], Params]], tuple[TrainState, Any]],
    state: TrainState,
) -> tuple[TrainState, Any]:
    """Run ``update(raveled_state, unravel) -> (raveled_state, output)`` on ``state`` with its
    params raveled into one vector, then restore them; traceable.

    For loops of steps on small networks of many arrays (an on-policy learner's minibatch
    epochs): the loss unravels the vector, and the optimizer and gradient clipping see one
    array, with no copies in or out of it at each step (a 64x64 actor-critic's step ran 72
    kernels instead of 79). The target weights stay out of the state meanwhile, so that they
    are not carried through the loop; ``update`` must not use them.
    """
    flat, unravel = ravel_pytree(state.params)
    # The light state's params are one vector where TrainState types a tuple of arrays: a pytree
    # all the same to train_step, the optimizer and lax.scan, which are all that see it.
    light = state._replace(params=cast(Params, flat), target_params=jnp.zeros(0), target_non_trainable=())
    light, output = update(light, unravel)
    return light._replace(params=unravel(cast(jax.Array, light.params)),
                          target_params=state.target_params,
                          target_non_trainable=state.target_non_trainable), output


def named_vmap(fn: Callable[..., Any], axis_name: str, in_axes: Any = 0) -> Callable[..., Any]:
    """``fn`` mapped over a leading axis of its arguments (``jax.vmap``), the axis named so that
    :func:`members` inside ``fn`` sees all of its members (e.g. SVPG's
    particles, which each compute their own gradients and then move together)."""
    return jax.vmap(fn, in_axes=in_axes, axis_name=axis_name)


def members(x: jax.Array, axis_name: str) -> jax.Array:
    """Inside :func:`named_vmap`: ``x`` of every member of the axis, stacked [members, ...]."""
    return jax.lax.all_gather(x, axis_name)


def unraveler(params: Params) -> Callable[[jax.Array], Params]:
    """The inverse of raveling ``params``; usable inside jitted code on a raveled vector."""
    return ravel_pytree(tuple(params))[1]


# ---------------------------------------------------------------------- the seam's types, optimizers
#: An array of the backend (here ``jax.Array``): what the pure forward functions take and return.
Array = jax.Array
#: An optimizer as :func:`train_step` takes it (here an ``optax.GradientTransformation``).
Optimizer = optax.GradientTransformation
#: The default optimizers of the function approximators, ``adam(learning_rate, ...)`` and
#: ``sgd(learning_rate, ...)`` (here optax's, with optax's keyword arguments).
adam = optax.adam
sgd = optax.sgd
