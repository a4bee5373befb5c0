"""A Ray session per test module (2 CPUs), with the module's own classes pickled by value so
Ray workers can build them (test modules are imported by path, not as a package)."""

import sys

import pytest


@pytest.fixture(scope="module")
def ray_session(request: pytest.FixtureRequest):
    ray = pytest.importorskip("ray")
    import cloudpickle

    module = sys.modules[request.module.__name__]
    cloudpickle.register_pickle_by_value(module)
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()
    cloudpickle.unregister_pickle_by_value(module)
