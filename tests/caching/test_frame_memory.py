"""Stacked frames stored once: the frame-stack axis read from wrappers, the memory a replay buffer
takes per slot, exact stacks rebuilt from real Atari frames, and DQN's buffer on Pong."""

from __future__ import annotations

import pathlib
import tracemalloc
import warnings
from collections.abc import Callable
from typing import Any, NamedTuple

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.wrappers import FrameStackObservation

from plugrl.caching import ExperienceReplayBuffer, ReplayStreams
from plugrl.caching.frames import infer_frame_stack_axis
from plugrl.samplers import make_vector_env
from plugrl.wrappers import FrameStacker, ImagePreprocessor

pytest.importorskip("ale_py")
pytest.importorskip("cv2")

from plugrl.samplers.atari import make_atari  # noqa: E402

FRAME_BYTES = 84 * 84
CAPACITY = 1000


def _frames_first() -> gym.Env:
    """Gymnasium's preprocessing: (4, 84, 84), stacked along axis 0; episodes of ~95 steps."""
    return make_atari("ALE/Pong-v5", max_num_frames_per_episode=400)


def _frames_last() -> gym.Env:
    """keras-gym's wrappers on raw frames: (84, 84, 4), stacked along the last axis."""
    raw = make_atari("ALE/Pong-v5", preprocessing=False, max_num_frames_per_episode=400)
    return FrameStacker(ImagePreprocessor(raw, 84, 84), 4)


# ---------------------------------------------------------------------------------- the axis
def test_frame_stack_axis_of_frame_stacker_is_the_last() -> None:
    env = _frames_last()
    assert env.observation_space.shape == (84, 84, 4)
    assert infer_frame_stack_axis(env) == 2
    assert infer_frame_stack_axis(gym.wrappers.TransformReward(env, float)) == 2  # seen through
    env.close()


def test_frame_stack_axis_of_frame_stack_observation_is_the_first() -> None:
    env = _frames_first()
    assert env.observation_space.shape == (4, 84, 84)
    assert infer_frame_stack_axis(env) == 0
    assert infer_frame_stack_axis(FrameStackObservation(gym.make("CartPole-v1"), 3)) == 0
    env.close()


@pytest.mark.parametrize("vectorization", ["native", "sync", "async"])
def test_frame_stack_axis_of_atari_vector_envs(vectorization: str) -> None:
    """An async env's sub-envs are out of reach in their subprocesses: make_vector_env says it
    (else DQN's buffer stored whole stacks, four times the memory)."""
    envs = make_vector_env("ALE/Pong-v5", 2, vectorization=vectorization)
    assert envs.single_observation_space.shape == (4, 84, 84)
    assert infer_frame_stack_axis(envs) == 0
    envs.close()


@pytest.mark.parametrize("env", [gym.make("CartPole-v1"), None, object(), "ALE/Pong-v5"])
def test_no_frame_stack_axis(env: Any) -> None:
    assert infer_frame_stack_axis(env) is None


# ---------------------------------------------------------------------------------- the buffer
class Step(NamedTuple):
    s: np.ndarray
    a: int
    r: float
    terminated: bool
    truncated: bool
    s_next: np.ndarray


def _play(env: gym.Env, num_steps: int) -> list[Step]:
    """Steps of random play over several episodes (each truncated after about 95 steps)."""
    rng = np.random.default_rng(0)
    steps: list[Step] = []
    s, _ = env.reset(seed=0)
    for _ in range(num_steps):
        a = int(rng.integers(env.action_space.n))
        s_next, r, terminated, truncated, _ = env.step(a)
        steps.append(Step(s, a, float(r), terminated, truncated, s_next))
        s = env.reset()[0] if terminated or truncated else s_next
    return steps


@pytest.fixture(scope="module", params=[_frames_first, _frames_last], ids=["axis_0", "axis_last"])
def played(request: pytest.FixtureRequest) -> tuple[gym.Env, list[Step]]:
    env = request.param()
    steps = _play(env, 250)
    assert sum(step.truncated for step in steps) >= 2  # episodes end within the buffer
    yield env, steps
    env.close()


def _fill(env: gym.Env, steps: list[Step], batch_size: int = 64, **kwargs: Any) -> ExperienceReplayBuffer:
    buffer = ExperienceReplayBuffer(env, CAPACITY, batch_size=batch_size, random_seed=0, **kwargs)
    for step in steps:
        buffer.add(step.s, step.a, step.r, step.terminated, truncated=step.truncated,
                   s_next=step.s_next)
    return buffer


def _traced_bytes(make: Callable[[], Any]) -> tuple[int, Any]:
    """The bytes still allocated after ``make()`` (NumPy reports its buffers to tracemalloc)."""
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        made = make()
        return tracemalloc.get_traced_memory()[0] - before, made
    finally:
        tracemalloc.stop()


def test_frames_are_stored_once(played: tuple[gym.Env, list[Step]]) -> None:
    env, steps = played
    once, buffer = _traced_bytes(lambda: _fill(env, steps))  # frame_stack_axis="auto"
    assert buffer.frame_stack_axis == infer_frame_stack_axis(env) is not None
    assert once / CAPACITY <= 1.1 * FRAME_BYTES
    assert buffer.nbytes / CAPACITY <= 1.1 * FRAME_BYTES
    whole, _ = _traced_bytes(lambda: _fill(env, steps, frame_stack_axis=None))
    assert whole / CAPACITY >= 3.9 * FRAME_BYTES  # the measurement sees the difference


@pytest.mark.parametrize("frame_stack_axis", ["auto", None])
def test_sampled_stacks_are_the_added_observations(played: tuple[gym.Env, list[Step]],
                                                    frame_stack_axis: Any) -> None:
    env, steps = played
    buffer = _fill(env, steps, frame_stack_axis=frame_stack_axis)
    added = {(step.s.tobytes(), step.s_next.tobytes()) for step in steps}
    S, _, _, In, S_next, _ = buffer.sample(num_batches=10)
    assert S.shape == (10, 64, *env.observation_space.shape) and S.dtype == np.uint8
    sampled = {(s.tobytes(), s_next.tobytes()) for s, s_next in
               zip(S.reshape(-1, *S.shape[2:]), S_next.reshape(-1, *S.shape[2:]))}
    assert sampled <= added
    assert len(sampled) > len(added) // 2
    assert (In > 0).all()  # Pong did not terminate: every S_next is bootstrapped from


def test_end_episode_starts_a_new_one(played: tuple[gym.Env, list[Step]]) -> None:
    """After end_episode an observation need not continue the stored frames (else a ValueError),
    and the ended episode's last step never becomes sampleable."""
    env, steps = played
    buffer = _fill(env, steps[:20], batch_size=16)
    num_valid = buffer.num_valid
    with pytest.raises(ValueError, match="frames are stored once"):
        buffer.add(steps[40].s, 0, 0.0, False)
    buffer.end_episode()
    for step in steps[40:45]:
        buffer.add(step.s, step.a, step.r, False)
    assert len(buffer) == 25
    assert buffer.num_valid == num_valid + 4  # the new episode's; none from the ended one
    added = {(step.s.tobytes(), step.s_next.tobytes()) for step in steps}
    S, _, _, _, S_next, _ = buffer.sample()
    assert {(s.tobytes(), s_next.tobytes()) for s, s_next in zip(S, S_next)} <= added


def test_end_episode_of_replay_streams_ends_every_stream(played: tuple[gym.Env, list[Step]]) -> None:
    env, steps = played
    streams = ReplayStreams([_fill(env, steps[:10]), _fill(env, steps[:15])], random_seed=0)
    streams.end_episode()
    for stream in (0, 1):
        streams.add(stream, steps[40].s, 0, 0.0, False)  # no ValueError: a new episode
    assert len(streams) == 27


# ---------------------------------------------------------------------------------- DQN on Pong
@pytest.fixture(scope="module")
def dqn() -> Any:
    from plugrl.agents import DQN

    agent = DQN("ALE/Pong-v5", seed=0, memory_size=2000, num_init_memory_steps=500, train_freq=4,
                batch_size=32)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # e.g. "the initial fill is the training"
        agent.fit(600)
    yield agent
    agent.close()


def test_dqn_buffer_stores_each_frame_once(dqn: Any) -> None:
    assert dqn.frame_stack_axis == 0
    arrays, meta = dqn.buffer.state()
    assert arrays["S"].shape[1:] == (84, 84) and arrays["S"].dtype == np.uint8
    assert meta["counters"]["size"] == 600 + 3  # one slot per step, plus the first stack's 3 older frames
    assert dqn.buffer.nbytes / dqn.buffer.capacity <= 1.1 * FRAME_BYTES


def test_dqn_samples_consecutive_stacks(dqn: Any) -> None:
    S, _, _, In, S_next, _ = dqn.buffer.sample(num_batches=4)
    assert S.shape == S_next.shape == (4, 32, 4, 84, 84)
    S, S_next = S[In > 0], S_next[In > 0]  # bootstrapped: S_next follows S by one step
    assert len(S) > 0
    np.testing.assert_array_equal(S_next[:, :3], S[:, 1:])
    assert not np.array_equal(S_next, S)
    assert dqn.num_update_rounds > 0  # it trained on these batches, too


def test_dqn_restored_on_the_native_env_starts_new_episodes_in_its_buffer(
        dqn: Any, tmp_path: pathlib.Path) -> None:
    """The native env's episodes restart on restore: the buffer must not stack the new frames
    onto the old episode's (that was a ValueError on the first step after the restore)."""
    from plugrl.agents import DQN

    restored = DQN.load(dqn.save(str(tmp_path / "dqn")))
    size = restored.buffer.state()[1]["counters"]["size"]
    restored.fit(8)
    assert restored.num_steps == dqn.num_steps + 8
    assert restored.buffer.state()[1]["counters"]["size"] == size + 3 + 8  # a new first stack
    S, _, _, In, S_next, _ = restored.buffer.sample(num_batches=4)
    np.testing.assert_array_equal(S_next[In > 0][:, :3], S[In > 0][:, 1:])
    restored.close()
