"""FlatCall: a traced function's short call gives what TensorFlow's own call gives."""

import numpy as np
import pytest
from tensorflow.python.ops import resource_variable_ops

from plugrl_tf._tf import tf
from plugrl_tf.calls import FlatCall

WEIGHT = tf.Variable([[1.0, 2.0], [3.0, 4.0]])


def structured(x):
    """Nested outputs with a ``None`` in them, reading a captured variable."""
    y = tf.matmul(x, WEIGHT)
    return y, [tf.reduce_sum(y)], {"doubled": 2.0 * y, "nothing": None}, None


def concrete(fn, *specs):
    return tf.function(fn).get_concrete_function(*specs)


SPEC = tf.TensorSpec([None, 2], tf.float32)


def test_the_short_call_gives_the_structured_outputs_of_the_function():
    fn = concrete(structured, SPEC)
    x = tf.constant([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    short = FlatCall(fn)([x])
    full = fn(x)
    assert tf.nest.map_structure(lambda v: None if v is None else v.numpy().tolist(), short) == (
        tf.nest.map_structure(lambda v: None if v is None else v.numpy().tolist(), full)
    )
    assert short[2]["nothing"] is None and short[3] is None


def test_the_short_call_sees_the_variables_current_values():
    fn = FlatCall(concrete(structured, SPEC))
    x = tf.constant([[1.0, 0.0]])
    before = fn([x])[0].numpy()
    WEIGHT.assign_add(tf.ones_like(WEIGHT))
    try:
        np.testing.assert_allclose(fn([x])[0].numpy(), before + 1.0)
    finally:
        WEIGHT.assign_sub(tf.ones_like(WEIGHT))


def test_a_gradient_tape_records_through_the_call():
    fn = FlatCall(concrete(structured, SPEC))
    x = tf.constant([[1.0, 1.0]])
    with tf.GradientTape() as tape:
        tape.watch(x)
        total = fn([x])[1][0]
    np.testing.assert_allclose(tape.gradient(total, x).numpy(), [[3.0, 7.0]])
    with tf.GradientTape() as tape:
        total = fn([x])[1][0]
    np.testing.assert_allclose(tape.gradient(total, WEIGHT).numpy(), [[1.0, 1.0], [1.0, 1.0]])


def test_a_call_inside_another_trace_becomes_part_of_its_graph():
    fn = FlatCall(concrete(structured, SPEC))
    outer = tf.function(lambda x: fn([x])[1][0] + 1.0)
    assert float(outer(tf.constant([[1.0, 0.0]]))) == 4.0  # sum([1, 0] @ WEIGHT) + 1


def test_an_error_in_the_graph_comes_out_as_tensorflows_error():
    def checked(x):
        tf.debugging.assert_non_negative(x, message="x must not be negative")
        return x

    fn = FlatCall(concrete(checked, SPEC))
    with pytest.raises(tf.errors.InvalidArgumentError, match="x must not be negative"):
        fn([tf.constant([[-1.0, 0.0]])])


def test_each_call_runs_with_the_executor_type_in_effect():
    fn = FlatCall(concrete(structured, SPEC))
    x = tf.constant([[1.0, 0.0]])
    fn([x])
    unknown = tf.experimental.function_executor_type("NO_SUCH_EXECUTOR")
    with unknown, pytest.raises(tf.errors.NotFoundError, match="NO_SUCH_EXECUTOR"):
        fn([x])


def test_a_returned_variable_handle_reads_the_variable():
    fn = FlatCall(concrete(lambda: WEIGHT.handle))
    handle = fn([])
    assert handle.dtype == tf.resource
    np.testing.assert_allclose(
        resource_variable_ops.read_variable_op(handle, tf.float32).numpy(), WEIGHT.numpy()
    )
