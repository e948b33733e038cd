"""The opinion-dynamics validation cases (quick variant) must all pass, and must be able to fail."""

from __future__ import annotations

import numpy as np
import pytest

from sim.validation import CaseResult, format_results
from sim.validation.opinion import (
    degroot_cases,
    dw_count_ok,
    friedkin_johnsen_cases,
    hk_count_ok,
    hk_runs,
    random_influence_matrix,
    run_opinion_cases,
)


@pytest.fixture(scope="module")
def quick_results() -> list[CaseResult]:
    return run_opinion_cases(quick=True)


def test_every_quick_case_passes(quick_results):
    failed = [r for r in quick_results if not r.passed]
    assert not failed, "\n" + format_results(failed)


def test_quick_cases_cover_all_four_models(quick_results):
    cases = " ".join(r.case for r in quick_results)
    for name in ("DeGroot", "Friedkin-Johnsen", "Hegselmann-Krause", "Deffuant-Weisbuch"):
        assert name in cases
    assert all(isinstance(r, CaseResult) and r.detail for r in quick_results)
    assert all(isinstance(r.passed, bool) for r in quick_results)


def test_results_are_reproducible():
    assert degroot_cases(5) == degroot_cases(5)
    assert friedkin_johnsen_cases(5) != friedkin_johnsen_cases(5, root=1)


def test_random_influence_matrix_is_stochastic_strongly_connected_aperiodic():
    rng = np.random.default_rng(0)
    W = random_influence_matrix(rng, 40).toarray()
    np.testing.assert_allclose(W.sum(axis=1), 1.0)
    assert np.all(np.diag(W) > 0)
    reach = (W > 0).astype(float)
    P = np.linalg.matrix_power(reach + np.eye(40), 40)
    assert np.all(P > 0)  # every node reaches every other one


def test_hk_criterion_rejects_the_wrong_confidence_bound():
    counts_narrow, _, _ = hk_runs(500, 12, 0.05)
    counts_wide, _, _ = hk_runs(500, 12, 0.15)
    m_n, s_n = counts_narrow.mean(), counts_narrow.std(ddof=1)
    m_w, s_w = counts_wide.mean(), counts_wide.std(ddof=1)
    assert hk_count_ok(m_n, s_n, 0.05) and hk_count_ok(m_w, s_w, 0.15)
    assert not hk_count_ok(m_n, s_n, 0.15)
    assert not hk_count_ok(m_w, s_w, 0.05)
    # and the criterion is a band, not "anything below 1/(2 eps)"
    assert not hk_count_ok(1.0, 0.0, 0.05)


def test_dw_criterion_rejects_the_wrong_threshold():
    assert dw_count_ok(4.5, 0.1) and dw_count_ok(2.1, 0.2)
    assert not dw_count_ok(4.5, 0.2)
    assert not dw_count_ok(1.0, 0.1)


def test_format_results_flags_failures():
    rows = [CaseResult("a", "q", 0.0, 1.0, 0.5, False, "x"),
            CaseResult("b", "q", 0.0, 0.1, 0.5, True, "y")]
    text = format_results(rows)
    assert text.splitlines()[0].startswith("FAIL") and text.splitlines()[1].startswith("ok")
    assert rows[0].as_dict()["passed"] is False
