"""Plugin discovery: installed plugins and versions, broken plugins, selection, run-time plugins."""

from __future__ import annotations

import importlib.metadata

import pytest

from plugrl import (
    ConfigError,
    PluginError,
    build_trainer,
    get_trainer_class,
    hookimpl,
    plugins,
    register_plugin,
    unregister_plugin,
)
from plugrl.registry import KNOWN_DISTRIBUTIONS, registry


@pytest.fixture
def fresh_host(monkeypatch):
    """Rebuild the plugin host after each test, from the real environment."""
    yield
    monkeypatch.undo()
    plugins.reset()


def test_installed_plugins_have_versions():
    infos = plugins.get_host().infos
    for name, dist in (
        ("ppo", "plugrl-ppo"),
        ("torch", "plugrl-torch"),
        ("exploration", "plugrl-exploration"),
    ):
        assert name in infos, sorted(infos)
        assert infos[name].distribution == dist
        assert infos[name].version == importlib.metadata.version(dist)
        assert not infos[name].builtin
    assert "register_algorithms" in infos["ppo"].hooks
    builtins = [i for i in infos.values() if i.builtin]
    assert {i.name for i in builtins} >= set(plugins.BUILTIN_PLUGINS)
    assert plugins.get_host().failures == []


def test_broken_plugin_is_kept_in_failures_and_the_rest_work(monkeypatch, fresh_host):
    real = importlib.metadata.entry_points

    def entry_points(**kwargs):
        eps = list(real(**kwargs))
        if kwargs.get("group") == plugins.ENTRY_POINT_GROUP:
            eps.append(
                importlib.metadata.EntryPoint(
                    name="broken", value="no_such_module_xyz", group=plugins.ENTRY_POINT_GROUP
                )
            )
        return eps

    monkeypatch.setattr(plugins.metadata, "entry_points", entry_points)
    with pytest.warns(RuntimeWarning, match="'broken'.*failed to load"):
        host = plugins.reset()
    assert [f.name for f in host.failures] == ["broken"]
    failure = host.failures[0]
    assert failure.value == "no_such_module_xyz"
    assert "ModuleNotFoundError" in failure.error
    assert "broken" not in host.infos
    assert {"ppo", "torch", "exploration"} <= set(host.infos)
    assert get_trainer_class("PPO").__name__ == "PPO"


def test_empty_selection_loads_only_builtins(monkeypatch, fresh_host):
    monkeypatch.setenv(plugins.ENV_VAR, "")
    host = plugins.reset()
    assert host.infos and all(info.builtin for info in host.infos.values())
    with pytest.raises(PluginError, match="plugrl-ppo, which is installed but not loaded"):
        get_trainer_class("PPO")


def test_selection_by_name(monkeypatch, fresh_host):
    monkeypatch.setenv(plugins.ENV_VAR, "torch, plugrl-exploration")
    host = plugins.reset()
    non_builtin = {n for n, i in host.infos.items() if not i.builtin}
    assert non_builtin == {"torch", "exploration"}


def test_missing_algorithm_names_its_distribution(monkeypatch):
    known = {**KNOWN_DISTRIBUTIONS["algorithms"], "Rainbow": "plugrl-rainbow"}
    monkeypatch.setitem(KNOWN_DISTRIBUTIONS, "algorithms", known)
    with pytest.raises(
        PluginError, match=r"Unknown algorithm 'Rainbow'.*pip install plugrl-rainbow"
    ):
        get_trainer_class("Rainbow")


def test_algorithm_left_out_by_the_selection_says_so(monkeypatch, fresh_host):
    monkeypatch.setenv(plugins.ENV_VAR, "ppo,torch,exploration")
    plugins.reset()
    with pytest.raises(PluginError, match=r"plugrl-dqn, which is installed but not loaded"):
        get_trainer_class("DQN")


def test_unknown_algorithm_suggests_close_names():
    with pytest.raises(PluginError, match="Did you mean: 'PPO'"):
        get_trainer_class("PPo")


class DummyAlgorithmPlugin:
    @hookimpl
    def register_algorithms(self, register):
        register("Dummy", build_trainer(name="DummyTrainer"))


def test_register_plugin_at_runtime(fresh_host):
    with pytest.raises(PluginError):
        get_trainer_class("Dummy")
    register_plugin(DummyAlgorithmPlugin(), name="dummy-plugin")
    try:
        assert get_trainer_class("Dummy").__name__ == "DummyTrainer"
        assert "dummy-plugin" in plugins.get_host().infos
        assert registry("algorithms").source("Dummy") == "dummy-plugin"
    finally:
        unregister_plugin("dummy-plugin")
    assert "dummy-plugin" not in plugins.get_host().infos
    with pytest.raises(PluginError):
        get_trainer_class("Dummy")


def _refusing_loader():
    raise ConfigError("this loader's own clear error")


class BrokenPathPlugin:
    @hookimpl
    def register_algorithms(self, register):
        register("Gone", "plugrl_no_such_module.trainer:GoneTrainer")
        register("Typo", "plugrl.trainer:NoSuchTrainer")
        register("Refused", _refusing_loader)


def test_algorithm_registered_by_a_broken_import_path_names_its_entry(fresh_host):
    register_plugin(BrokenPathPlugin(), name="broken-paths")
    try:
        with pytest.raises(
            PluginError,
            match=r"'Gone' .from plugin 'broken-paths'. is registered as 'plugrl_no_such_m.*"
            r"ModuleNotFoundError.*Fix or reinstall that plugin",
        ):
            get_trainer_class("Gone")
        with pytest.raises(PluginError, match="'Typo' .from plugin 'broken-paths'.*Attribute"):
            get_trainer_class("Typo")
        with pytest.raises(ConfigError, match="^this loader's own clear error$"):
            get_trainer_class("Refused")  # a plugrl error from a loader comes through as it is
    finally:
        unregister_plugin("broken-paths")


def test_importable_runtime_plugin_travels_in_spec(fresh_host):
    register_plugin(DummyAlgorithmPlugin)
    spec = plugins.get_host().spec()
    name = f"{__name__}:DummyAlgorithmPlugin"
    assert name in spec["extra"]
    unregister_plugin(name)
    assert name not in plugins.get_host().spec()["extra"]


class MisspeltHookPlugin:
    @hookimpl
    def register_algorithm(register):  # no such hook: register_algorithms
        register("Nope", None)


def test_misspelt_hook_is_refused_and_the_host_keeps_working(fresh_host):
    import pluggy

    with pytest.raises(pluggy.PluginValidationError, match="register_algorithm"):
        register_plugin(MisspeltHookPlugin)
    assert not plugins.get_host().pm.has_plugin(f"{__name__}:MisspeltHookPlugin")
    assert get_trainer_class("PPO").__name__ == "PPO"


class RaisingRegistrationPlugin:
    @hookimpl
    def register_algorithms(register):
        raise RuntimeError("boom")


def test_plugin_failing_in_a_register_hook_is_skipped(fresh_host):
    register_plugin(RaisingRegistrationPlugin)
    with pytest.warns(RuntimeWarning, match="failed in register_algorithms.*boom"):
        assert "PPO" in registry("algorithms").names()
