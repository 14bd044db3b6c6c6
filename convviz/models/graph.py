"""Walk a Keras model into a flat list of layer calls, inputs first.

This is the one graph walker in convviz: the cost table, the receptive-field
table and the plots all read a model through :func:`flatten`, and do their
arithmetic on the result with the plain formulas in ``convviz.core``.

Conventions
-----------
- One :class:`Node` per layer *call*, in topological order (every node comes
  after the nodes that feed it). The model's ``InputLayer`` nodes come first,
  with no inputs.
- A nested model (functional, or a ``Sequential`` built with an input shape)
  is opened up: its layers appear as ``outer/inner``, where ``outer`` is the
  nested model's name. Its own ``InputLayer`` nodes are dropped; the layers
  that read them read from whatever feeds the nested model.
- A layer called more than once (shared weights) gives one node per call;
  the second call is named ``name#2``, the third ``name#3``, and so on. All
  calls share ``node.layer``, so a reader can count the weights once.
- Shapes leave out the batch dimension. ``output_shape`` is that of the first
  output (layers in the applications have one output).
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Node:
    """One call of one layer (or Keras operation) in a model."""

    name: str
    layer: object
    kind: str
    inputs: list[str] = field(default_factory=list)
    input_shapes: list[tuple] = field(default_factory=list)
    output_shape: tuple = ()


def flatten(model) -> list[Node]:
    """The calls of ``model``, nested models opened up, in topological order."""
    graph = _graph_of(model)
    if graph is None:
        raise ValueError(
            f"model must be a Keras functional model or a Sequential built with an input "
            f"shape; got {type(model).__name__} {getattr(model, 'name', '')!r}. "
            "Build it with keras.Input(shape=...) or call model.build(input_shape) first."
        )
    nodes: list[Node] = []
    _walk(graph, prefix="", feeds=None, nodes=nodes, taken=set())
    return nodes


def _graph_of(model):
    """The functional graph behind ``model``, or None when it has none."""
    if hasattr(model, "_nodes_by_depth") and hasattr(model, "inputs"):
        return model
    inner = getattr(model, "_functional", None)  # a built Sequential
    return inner if inner is not None else None


def _shape(tensor) -> tuple:
    return tuple(tensor.shape[1:])


def _unique(name: str, taken: set) -> str:
    """``name``, or ``name#2``, ``name#3``... when a shared layer is called again."""
    candidate, k = name, 1
    while candidate in taken:
        k += 1
        candidate = f"{name}#{k}"
    taken.add(candidate)
    return candidate


def _ordered_calls(graph):
    """The Keras call nodes of ``graph``, each after its parents (iterative DFS)."""
    stop = {id(t) for t in graph.inputs}
    order, done = [], set()
    stack = [(t, False) for t in reversed(graph.outputs)]
    while stack:
        tensor, expanded = stack.pop()
        op, index, _ = tensor._keras_history
        call = op._inbound_nodes[index]
        if id(call) in done:
            continue
        if expanded or id(tensor) in stop or call.is_input:
            done.add(id(call))
            order.append(call)
            continue
        stack.append((tensor, True))
        for parent in reversed(call.input_tensors):
            p_op, p_index, _ = parent._keras_history
            if id(p_op._inbound_nodes[p_index]) not in done:
                stack.append((parent, False))
    return order


def _walk(graph, prefix, feeds, nodes, taken):
    """Append the nodes of ``graph``; return the node names of its outputs.

    ``feeds`` names the outer nodes feeding ``graph.inputs`` (None at top level).
    """
    producer = {}  # id(KerasTensor) -> name of the node that produced it
    if feeds is not None:
        producer.update({id(t): name for t, name in zip(graph.inputs, feeds)})
    for call in _ordered_calls(graph):
        op = call.operation
        outputs = call.output_tensors
        if all(id(t) in producer for t in outputs):
            continue  # an input of a nested model, already fed from outside
        inputs = [producer[id(t)] for t in call.input_tensors]
        inner = _graph_of(op) if op is not graph else None
        if inner is not None and not call.is_input:
            name = _unique(prefix + op.name, taken)
            out_names = _walk(inner, name + "/", inputs, nodes, taken)
            producer.update({id(t): n for t, n in zip(outputs, out_names)})
            continue
        name = _unique(prefix + op.name, taken)
        nodes.append(Node(
            name=name,
            layer=op,
            kind=kind_of(op),
            inputs=inputs,
            input_shapes=[_shape(t) for t in call.input_tensors],
            output_shape=_shape(outputs[0]) if outputs else (),
        ))
        producer.update({id(t): name for t in outputs})
    return [producer[id(t)] for t in graph.outputs]


def kind_of(layer) -> str:
    """The layer's class name, or for a custom subclass of a Keras layer, that Keras layer's.

    A ``Conv2D`` subclass that only computes differently (say, one convolution per group) then
    costs and sees what a ``Conv2D`` does. A class convviz knows by its own name (such as
    ``ChannelShuffle``) keeps it.
    """
    from ..core.costs import KINDS

    cls = type(layer)
    if cls.__name__ in KINDS:
        return cls.__name__
    for base in cls.__mro__:
        if base.__module__.startswith("keras.") and base.__name__ not in ("Layer", "Operation"):
            return base.__name__
    return cls.__name__
