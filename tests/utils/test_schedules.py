"""pyrado's learning-rate schedulers (seed 004: ``lr_scheduler``, ``lr_scheduler_hparam``) with
torch's meanings, stepped once per iteration; and the schedules of progress they sit beside."""

import math

import numpy as np
import pytest

from plugrl.utils.schedules import IterationSchedule, schedule_value, scheduled_lr

LR = 0.01

# torch's values after k scheduler steps, written out from torch's documentation.
TORCH = [
    ("ExponentialLR", {"gamma": 0.9}, lambda k: LR * 0.9 ** k),
    ("StepLR", {"step_size": 3, "gamma": 0.5}, lambda k: LR * 0.5 ** (k // 3)),
    ("StepLR", {"step_size": 2}, lambda k: LR * 0.1 ** (k // 2)),
    ("MultiStepLR", {"milestones": [2, 5], "gamma": 0.1}, lambda k: LR * 0.1 ** ((k >= 2) + (k >= 5))),
    ("CosineAnnealingLR", {"T_max": 10, "eta_min": 0.001},
     lambda k: 0.001 + (LR - 0.001) * (1 + math.cos(math.pi * k / 10)) / 2),
    ("LinearLR", {"start_factor": 0.5, "total_iters": 4}, lambda k: LR * (0.5 + 0.5 * min(k, 4) / 4)),
    ("LinearLR", {}, lambda k: LR * (1 / 3 + (2 / 3) * min(k, 5) / 5)),
    ("ConstantLR", {"factor": 0.5, "total_iters": 3}, lambda k: LR * (0.5 if k < 3 else 1.0)),
    ("PolynomialLR", {"total_iters": 4, "power": 2.0}, lambda k: LR * (1 - min(k, 4) / 4) ** 2),
    ("LambdaLR", {"lr_lambda": lambda k: 1 / (k + 1)}, lambda k: LR / (k + 1)),
]


@pytest.mark.parametrize("name, hparam, expected", TORCH, ids=[f"{n}-{i}" for i, (n, *_) in enumerate(TORCH)])
def test_torch_scheduler_names_have_torchs_values(name, hparam, expected):
    lr = scheduled_lr(LR, name, hparam)
    for k in range(12):
        assert float(schedule_value(lr, 0.3, iteration=k)) == pytest.approx(expected(k), rel=1e-9)


def test_named_schedulers_are_strings_that_checkpoints_can_save():
    lr = scheduled_lr(5e-4, "ExponentialLR", {"gamma": 0.99})
    assert lr == 'ExponentialLR:{"gamma": 0.99, "lr": 0.0005}'
    assert schedule_value(lr, 0.0, iteration=2) == pytest.approx(5e-4 * 0.99 ** 2)


def test_an_optax_schedule_or_its_factory_gives_the_learning_rate():
    import optax

    direct = scheduled_lr(1.0, optax.exponential_decay(5e-4, 1, 0.9))
    factory = scheduled_lr(1.0, optax.exponential_decay,
                           {"init_value": 5e-4, "transition_steps": 1, "decay_rate": 0.9})
    for lr in (direct, factory):
        assert isinstance(lr, IterationSchedule)
        assert float(schedule_value(lr, 0.5, iteration=3)) == pytest.approx(5e-4 * 0.9 ** 3, rel=1e-6)


def test_traced_iteration_counts_give_the_same_values():
    import jax
    import jax.numpy as jnp

    for name, hparam, expected in TORCH[:-1]:
        lr = scheduled_lr(LR, name, hparam)
        f = jax.jit(lambda k, lr=lr: jnp.asarray(schedule_value(lr, 0.0, iteration=k), jnp.float32))
        np.testing.assert_allclose([float(f(jnp.int32(k))) for k in range(8)],
                                   [expected(k) for k in range(8)], rtol=1e-5)


def test_start_replaces_the_initial_learning_rate():
    lr = scheduled_lr(LR, "StepLR", {"step_size": 1, "gamma": 0.5})
    assert schedule_value(lr, 0.0, start=1.0, iteration=3) == pytest.approx(0.125)


def test_without_a_scheduler_lr_is_unchanged_and_progress_schedules_still_work():
    assert scheduled_lr(3e-4) == 3e-4 and scheduled_lr("lin_1e-3") == "lin_1e-3"
    assert schedule_value("lin_1e-3", 0.25, iteration=7) == pytest.approx(7.5e-4)
    assert schedule_value(lambda remaining: remaining, 0.25, iteration=7) == 0.75


@pytest.mark.parametrize("lr, scheduler, hparam, match", [
    (1e-3, "ReduceLROnPlateau", None, "lr_scheduler: expected one of"),
    (1e-3, "StepLR", {"gamma": 0.5}, "lr_scheduler_hparam: expected torch's keyword"),
    (1e-3, "StepLR", {"step_size": 1, "bogus": 2}, "lr_scheduler_hparam: expected torch's keyword"),
    (1e-3, None, {"gamma": 0.5}, "lr_scheduler_hparam: expected None"),
    ("lin_1e-3", "ExponentialLR", {"gamma": 0.9}, "lr: expected a float > 0"),
    (1e-3, "LambdaLR", {"gamma": 0.9}, "expected {'lr_lambda'"),
])
def test_bad_schedulers_are_clear_errors(lr, scheduler, hparam, match):
    with pytest.raises(ValueError, match=match):
        scheduled_lr(lr, scheduler, hparam)
