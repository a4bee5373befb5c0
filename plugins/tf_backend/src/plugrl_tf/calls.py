"""Calling a traced step with as little Python as TensorFlow allows.

``ConcreteFunction.__call__`` binds its arguments to the signature again on every call, and
even its flat call goes through several layers of Python (tape checks, context managers,
output packing) before TensorFlow runs the graph: on the 2-core machine 20-50 us of the
300-450 us of PPO's acting call on 8 observations. plugrl-tf pins its TensorFlow version, so a
:class:`FlatCall` may run the function's graph the way TensorFlow's own ``execute`` does, and
keeps the general call for what that skips: a gradient tape that may record, and graph mode.
"""

from __future__ import annotations

import itertools
from typing import Any

from plugrl_tf._tf import context, pywrap_tfe, record


class FlatCall:
    """``concrete`` called on flat tensor inputs (its captured inputs are appended), giving
    its structured outputs."""

    def __init__(self, concrete: Any):
        self._concrete = concrete  # keeps its graph function registered with the context
        atomic = concrete._inference_function
        self._name = atomic.name.decode()
        self._num_outputs = len(atomic.function_type.flat_outputs)
        self._pack = atomic.function_type.pack_output

    def __call__(self, flat_inputs: list) -> Any:
        ctx = context.context()
        captured = self._concrete.captured_inputs  # read per call, as TensorFlow does
        if not ctx.executing_eagerly() or record.could_possibly_record():
            return self._concrete._call_flat(flat_inputs, captured)
        attrs = itertools.chain(*ctx.function_call_options.as_attrs().items())  # executor
        outputs = pywrap_tfe.TFE_Py_Execute(  # raises TF's errors (InvalidArgumentError...)
            ctx._handle,
            ctx.device_name,
            self._name,
            flat_inputs + captured,
            tuple(attrs),
            self._num_outputs,
        )
        return self._pack(outputs)
