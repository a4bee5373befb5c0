"""TFPolicy and build_tf_policy: the kernel's template policy on the TensorFlow backend."""

from __future__ import annotations

from typing import Any

from plugrl.policy.template import TEMPLATE_FUNCTIONS, TemplatePolicy, build_policy
from plugrl_tf.backend import TFBackend

TEMPLATE_BUILDER = True  # see plugrl.template

TF_ONLY = ("gradients_fn", "apply_gradients_fn", "grad_stats_fn")


class TFPolicy(TemplatePolicy):
    """A policy whose model, loss and optimizers are TensorFlow 2 objects (traced; eager with
    ``framework: tf2``)."""

    backend_class = TFBackend
    _template: dict[str, Any] = dict.fromkeys((*TEMPLATE_FUNCTIONS, *TF_ONLY))


def build_tf_policy(name: str, **functions: Any) -> type[TFPolicy]:
    """A TFPolicy subclass named ``name``, from the functions every backend's builder takes
    under the same names (``loss_fn``, ``postprocess_fn``, ``stats_fn``, ``make_parts``...;
    see :func:`plugrl.policy.build_policy` for them all and their signatures), plus RLlib's
    TF-only gradient hooks: ``gradients_fn(policy, optimizer, loss)`` -> ``[(grad, var), ...]``
    (``optimizer.compute_gradients(loss)`` gives the plain ones),
    ``apply_gradients_fn(policy, optimizer, grads_and_vars)`` and
    ``grad_stats_fn(policy, train_batch, grads)`` -> dict (``grad_clip`` needs none of them)."""
    return build_policy(TFPolicy, name, **functions)
