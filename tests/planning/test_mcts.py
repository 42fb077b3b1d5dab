"""keras-gym's MCTSNode on hand-built trees, and the batched search agreeing with it."""

from __future__ import annotations

import jax
import numpy as np
import pytest

import plugrl
from plugrl.envs import ConnectFourEnv
from plugrl.envs.jax.connect_four import ConnectFour
from plugrl.planning import MCTSNode, batched_search, puct_scores, visit_policy
from plugrl.predefined import ConnectFourFunctionApproximator


class FixedActorCritic:
    """Every position gets the same logits and value: trees small enough to work out by hand."""

    def __init__(self, env: ConnectFourEnv, logits: list[float], v: float) -> None:
        self.env, self.logits, self.v = env, np.asarray(logits, np.float32), v

    def dist_params(self, s: np.ndarray) -> tuple[np.ndarray, float]:
        return self.logits, self.v


def position(moves: list[int], rows: int = 4, cols: int = 5, connect: int = 3) -> ConnectFourEnv:
    env = ConnectFourEnv(num_rows=rows, num_cols=cols, connect=connect)
    env.reset(seed=0)
    for a in moves:
        env.step(a)
    return env


def test_visit_counts_follow_puct_by_hand():
    # P = softmax([0, 1, 2, 1.5, 0]) = [.060, .164, .445, .270, .060]; with v = 0 every Q is 0,
    # so U decides: sim 1 takes the largest prior (column 2); sim 2 compares .445/2 with .270
    # (column 3); sim 3 compares .445 * sqrt(2)/2 = .315 with .270 * sqrt(2)/2 and .164 * sqrt(2).
    env = position([])
    node = MCTSNode(env.state_id, FixedActorCritic(env, [0, 1, 2, 1.5, 0], 0.0))
    expected = [[0, 0, 1, 0, 0], [0, 0, 1, 1, 0], [0, 0, 2, 1, 0]]
    for counts in expected:
        node.search(1)
        np.testing.assert_array_equal(node.N, counts)
    assert node.is_root and not node.is_leaf and set(node.children) == set(range(5))


def test_backup_flips_the_sign_at_each_level():
    # Every position is worth +0.5 to the player to move there.
    env = position([])
    node = MCTSNode(env.state_id, FixedActorCritic(env, [0, 1, 2, 1.5, 0], 0.5))
    node.search(1)  # column 2 expanded: worth 0.5 to the opponent, -0.5 to us
    assert node.W[2] == pytest.approx(-0.5) and node.Q[2] == pytest.approx(-0.5)
    child = node.children[2]
    assert child.v == pytest.approx(0.5) and child.N.sum() == 0
    node.search(4)  # an unvisited column (Q = 0) beats a visited one (Q = -0.5) for a while
    np.testing.assert_array_equal(node.N, [1, 1, 1, 1, 1])
    np.testing.assert_allclose(node.W, -0.5)
    node.search(1)  # equal Q: the prior leads back into column 2, and one level deeper
    assert child.N.sum() == 1 and child.N[2] == 1 and child.W[2] == pytest.approx(-0.5)
    # the grandchild's +0.5 is -0.5 for the child's mover and +0.5 for the root's
    assert node.N[2] == 2 and node.W[2] == pytest.approx(-0.5 + 0.5)
    assert node.v_max == pytest.approx(0.5)


def test_a_winning_move_is_known_at_expansion_and_chosen():
    # 4 x 5, three in a row: the first player has columns 0 and 1 on the bottom row and moves.
    env = position([0, 0, 1, 1])
    node = MCTSNode(env.state_id, FixedActorCritic(env, [0, 0, 0, 0, 5], 0.0), random_seed=0)
    node.search(20)
    assert node.D.tolist() == [False, False, True, False, False]
    assert node.R[2] == 1.0 and node.Q[2] == 1.0 and node.U[2] == 0.0
    assert node.N[2] == node.N.max()
    assert node.children[2].is_terminal and node.children[2].is_leaf
    s, a, r, done = node.play(tau=0)
    assert (a, r, done) == (2, 1.0, True)
    np.testing.assert_array_equal(s, env.state)  # the position the move was played from


def test_a_drawing_last_move_is_worth_its_reward_zero():
    # A 2 x 2 board where three in a row is impossible: the fourth move fills it, a draw.
    env = ConnectFourEnv(num_rows=2, num_cols=3, connect=3)
    env.reset(seed=0)
    for a in [0, 1, 2, 0, 1]:
        env.step(a)
    node = MCTSNode(env.state_id, FixedActorCritic(env, [0, 0, 0], 0.9))
    node.search(5)
    assert node.D.tolist() == [False, False, True] and node.R[2] == 0.0
    assert node.Q[2] == 0.0 and node.N[2] == 5 and node.W[2] == 0.0


def test_play_makes_the_child_the_root():
    env = position([])
    node = MCTSNode(env.state_id, FixedActorCritic(env, [0, 1, 2, 1.5, 0], 0.1), random_seed=1)
    node.search(30)
    child = node.children[2]
    child_counts, child_id = child.N.copy(), child.state_id
    s, a, r, done = node.play(tau=0)
    assert (a, r, done) == (2, 0.0, False)
    assert node.state_id == child_id and node.is_root and node.parent_action is None
    np.testing.assert_array_equal(node.N, child_counts)
    assert all(grandchild.parent_node is node for grandchild in node.children.values())
    env.step(2)
    np.testing.assert_array_equal(node.state, env.state)
    node.search(10)  # the tree grows on from the new root
    assert node.N.sum() == child_counts.sum() + 10


def test_a_lost_position_resigns_below_v_resign():
    env = position([])
    for v_resign, resigns in ((-0.9, True), (-1.0, False)):
        node = MCTSNode(env.state_id, FixedActorCritic(env, [0, 0, 1, 0, 0], -0.95), v_resign=v_resign)
        node.search(1)
        *_, done = node.play(tau=0)
        assert done is resigns  # the new root has seen nothing better than -0.95


def test_errors_name_the_problem():
    env = position([])
    node = MCTSNode(env.state_id, FixedActorCritic(env, [0] * 5, 0.0))
    with pytest.raises(RuntimeError, match="search"):
        node.play()
    node.search(1)
    with pytest.raises(RuntimeError, match="already expanded"):
        node.expand()


def test_visit_policy_temperature():
    N = np.array([1, 3, 0, 3])
    np.testing.assert_allclose(visit_policy(N, 1.0), N / 7)
    np.testing.assert_allclose(visit_policy(N, 0.0), [0, 0.5, 0, 0.5])
    np.testing.assert_allclose(visit_policy(N, 0.5), np.square(N) / 19, rtol=1e-6)


def test_puct_scores_mask_illegal_and_value_terminal_moves():
    Q, N = np.array([0.2, 0.0, 0.0]), np.array([2, 0, 0])
    P, D, R = np.array([0.5, 0.3, 0.2]), np.array([False, True, False]), np.array([0.0, 1.0, 0.0])
    scores = puct_scores(Q, N, P, D, R, np.array([True, True, False]), c_puct=2.0)
    assert scores[0] == pytest.approx(0.2 + 2 * 0.5 * np.sqrt(2) / 3)
    assert scores[1] == 1.0 and scores[2] < -1e29


@pytest.fixture(scope="module")
def network():
    env = ConnectFourEnv(num_rows=4, num_cols=5, connect=3)
    func = ConnectFourFunctionApproximator(env, random_seed=3)
    ac = plugrl.ActorCritic(plugrl.SoftmaxPolicy(func, update_strategy="cross_entropy"),
                            plugrl.V(func, gamma=1.0))
    joint = func.joint_head_model(("pi", "v"))
    weights = (func.gather(joint.trainable), func.gather(joint.non_trainable))
    game = ConnectFour(4, 5, 3)

    def evaluate(w, key, states):
        (Z, V), _ = joint.model.stateless_call(list(w[0]), list(w[1]), jax.vmap(game.observation)(states))
        return Z, V[:, 0]

    return ac, game, evaluate, weights


# The last position has one slot left in columns 0 and 1: inside the tree they fill up, and the
# batched search, which could step into a full column where the node cannot, must not either.
@pytest.mark.parametrize("moves, n", [([], 200), ([2], 150), ([2, 2, 1, 3], 100), ([0, 1, 0, 1, 1, 0], 120)])
def test_batched_search_builds_the_concept_level_tree(network, moves, n):
    ac, game, evaluate, weights = network
    env = position(moves)
    node = MCTSNode(env.state_id, ac, random_seed=0)
    node.search(n)
    states = jax.tree_util.tree_map(lambda x: x[None], game.state_from_observation(env.state))
    result = batched_search(game, evaluate, weights, jax.random.PRNGKey(0), states, n)
    np.testing.assert_array_equal(np.asarray(result.visit_counts[0]), node.N)
    np.testing.assert_allclose(np.asarray(result.Q[0]), node.Q, atol=1e-5)
    assert len(set(node.N.tolist())) > 1 or moves  # the counts are not trivially uniform


def test_root_noise_changes_the_search_but_never_visits_a_full_column(network):
    _, game, evaluate, weights = network
    env = position([0, 0, 0, 0, 1])  # column 0 is full
    states = jax.tree_util.tree_map(lambda x: x[None], game.state_from_observation(env.state))
    plain = batched_search(game, evaluate, weights, jax.random.PRNGKey(0), states, 64)
    noisy = [batched_search(game, evaluate, weights, jax.random.PRNGKey(i), states, 64, dirichlet_alpha=0.3)
             for i in range(3)]
    counts = [np.asarray(r.visit_counts[0]) for r in (plain, *noisy)]
    assert all(c[0] == 0 and c.sum() == 64 for c in counts)
    assert any(not np.array_equal(counts[0], c) for c in counts[1:])

