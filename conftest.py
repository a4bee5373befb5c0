"""Shared pytest setup: results of any trainer a test builds without a logdir go to a
temporary folder, never to ~/plugrl_results."""

import pytest

from plugrl.trainer.logdir import RESULTS_ROOT_ENV


@pytest.fixture(autouse=True, scope="session")
def _results_in_tmp(tmp_path_factory: pytest.TempPathFactory) -> None:
    mp = pytest.MonkeyPatch()
    mp.setenv(RESULTS_ROOT_ENV, str(tmp_path_factory.mktemp("plugrl_results")))
    yield
    mp.undo()
