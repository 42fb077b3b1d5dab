"""The argument checks of utils.validation that every package shares."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
import pytest

from plugrl.utils.validation import check_finite, check_unit_interval


def test_check_finite_names_the_first_bad_index():
    np.testing.assert_array_equal(check_finite([1.0, 2.0], "x"), [1.0, 2.0])
    with pytest.raises(ValueError, match=r"^Rn: expected finite values, got nan at index 2$"):
        check_finite([0.0, 1.0, np.nan, np.inf], "Rn")
    with pytest.raises(ValueError, match=r"^logits: expected finite values, got inf at index \(1, 0\)$"):
        check_finite(np.array([[0.0, 1.0], [np.inf, np.nan]]), "logits")
    with pytest.raises(ValueError, match=r"^mu: expected finite values, got -inf at index \(0, 1\)$"):
        check_finite(jnp.array([[0.0, -jnp.inf]]), "mu")


@pytest.mark.parametrize("value", [0, 1, 0.5, np.float32(0.25), np.array(0.75), jnp.asarray(1.0)])
def test_check_unit_interval_accepts_numbers_in_0_1(value):
    assert check_unit_interval(value, "gamma") == pytest.approx(float(value))
    assert isinstance(check_unit_interval(value, "gamma"), float)


@pytest.mark.parametrize("value, error, message", [
    (1.5, ValueError, r"^gamma: expected a float in \[0, 1\], got 1.5$"),
    (-0.1, ValueError, r"^gamma: expected a float in \[0, 1\], got -0.1$"),
    (float("nan"), ValueError, r"^gamma: expected a float in \[0, 1\], got nan$"),
    (np.array(2.0), ValueError, r"^gamma: expected a float in \[0, 1\], got 2.0$"),
    (True, TypeError, r"^gamma: expected a float in \[0, 1\], got bool True$"),
    ("0.5", TypeError, r"^gamma: expected a float in \[0, 1\], got str '0.5'$"),
    (np.zeros(2), TypeError, r"^gamma: expected a float in \[0, 1\], got ndarray"),
])
def test_check_unit_interval_rejects_others(value, error, message):
    with pytest.raises(error, match=message):
        check_unit_interval(value, "gamma")
