"""The Working sheet's lines for a network of layers: iteration 1 by hand, layer by layer.

The lines are the Training columns of equations/layers.py, in the order a student computes them:
per sample the forward pass layer by layer (a sub-heading per layer; conv2d, dense and max-pool
element by element, z then a; an rnn step by step), the loss, per sample the backward pass from
the last layer to the first (an rnn's δ from the last step back: backpropagation through time),
then the gradients, the optimizer's state and the update, as for a dense network. The sheet
itself (values, texts, formats) is working.py's.
"""

from __future__ import annotations

from collections.abc import Iterator

from sheetnet.equations import graph, labels, layer_names
from sheetnet.model import ids, layer_ids, schedule
from sheetnet.model.spec import Spec
from sheetnet.sheets.working_lines import Heading, Item, Line, bound, first_batch, optimizer_headings

# Kinds whose forward groups all have the layer's output shape: listed element by element
# (z[1] a[1] z[2] a[2] …, or a max-pool window's arg-max then its maximum), as dense neurons are.
_ELEMENTWISE = ("conv2d", "dense", "maxpool2d")


def layered_items(spec: Spec) -> list[Item]:
    """Every row of a layered network's Working sheet below its header, in order."""
    columns = {c.qid: c for c in graph.training_columns(spec)}
    batch = schedule.batches(spec, rows=1)[0]  # the samples of iteration 1 (from 0)
    numbers = first_batch(spec)
    K = spec.slots

    def line(qid: str, group: str) -> Line:
        return Line(qid, group, bound(columns[qid], spec, batch))

    result: list[Item] = [Heading("forward", text_key="working.layers_forward")]
    for k in range(K):
        result += [Heading("forward", numbers[k])] if K > 1 else []
        for n in range(len(spec.layers)):
            qids = list(_forward_ids(spec, n, k))
            if qids:  # a flatten has no lines of its own
                result += [Heading("forward", layer=n), *(line(q, "forward") for q in qids)]
    result.append(Heading("loss"))
    result += [line(q, "loss") for q in ids.losses(spec)]
    result.append(Heading("backward", text_key="working.layers_backward"))
    for k in range(K):
        result += [Heading("backward", numbers[k])] if K > 1 else []
        for n in reversed(range(len(spec.layers))):
            qids = list(_backward_ids(spec, n, k))
            if qids:
                result += [Heading("backward", layer=n), *(line(q, "backward") for q in qids)]
    result.append(Heading("gradient"))
    result += [line(q, "gradient") for q in _gradient_ids(spec)]
    result += optimizer_headings(spec, columns)
    result += [line(q, "update") for q in ids.params(spec)]  # every parameter is trained
    return result


def _forward_ids(spec: Spec, n: int, k: int) -> Iterator[str]:
    """Layer n's forward lines of slot k; a long sum's parts (z1[1,2,3]#1 …) just before it."""
    slot = layer_ids.slot(spec, k)
    all_groups = layer_ids.forward_groups(spec, n)
    groups = [g.ids(slot) for g in all_groups if not g.parts]
    parts = _parts_of(all_groups, slot)
    layer = spec.layers[n]
    if layer.kind in _ELEMENTWISE:
        for same_index in zip(*groups, strict=True):
            yield from parts.get(same_index[0], [])
            yield from same_index
    elif layer.kind == "rnn":  # step by step: z[t,·] then h[t,·]
        size = layer.size
        z, h = groups
        for t in range(0, len(z), size):
            yield from (q for whole in z[t:t + size] for q in parts.get(whole, []))
            yield from z[t:t + size]
            yield from h[t:t + size]
    else:
        for group in groups:
            yield from (q for whole in group for q in parts.get(whole, []))
            yield from group


def _parts_of(groups: list[layer_ids.Group], slot: int | None) -> dict[str, list[str]]:
    """The part columns of each split quantity among groups: {z1[1,2,3]: [z1[1,2,3]#1, …]}."""
    out: dict[str, list[str]] = {}
    for group in groups:
        if group.parts:
            for qid in group.ids(slot):
                out.setdefault(str(ids.parse(qid).replace(part=None)), []).append(qid)
    return out


def _gradient_ids(spec: Spec) -> Iterator[str]:
    """Every gradient, each after its parts when its sum is split."""
    parts = _parts_of(layer_ids.gradient_part_groups(spec), None)
    for qid in ids.gradients(spec):
        yield from parts.get(qid, [])
        yield qid


def _backward_ids(spec: Spec, n: int, k: int) -> Iterator[str]:
    layer = spec.layers[n]
    for group in layer_ids.backward_groups(spec, n):
        qids = group.ids(layer_ids.slot(spec, k))
        if layer.kind == "rnn" and group.prefix == "delta" and group.layer == n:
            size = layer.size  # backpropagation through time: the last step first
            steps = [qids[t:t + size] for t in range(0, len(qids), size)]
            qids = [q for step in reversed(steps) for q in step]
        yield from qids


# --- labels ----------------------------------------------------------------------------------


def layered_label(spec: Spec, qid: str) -> str:
    """z⁽¹⁾[2,1,1], δ⁽⁴⁾[1], ∂L/∂K⁽¹⁾[1,1,2,2], m(K⁽¹⁾[1,1,1,1]); with several samples a
    superscript after the indices names the sample: z⁽¹⁾[2,1,1]⁽³⁾ (in minibatch mode the
    sample that slot k holds in iteration 1). L, acc and the bias corrections are named by
    working.quantity_label, as for a dense network."""
    if qid in ids.losses(spec):  # a sample's loss, and whether it is right: 1 or 0
        parts = ids.parse(qid)
        mark = labels.sup(f"({sample_number(spec, (parts.sample or 0) + 1)})")
        return ("L" if parts.kind == "loss" else "c") + mark
    base, slot = layer_names.split_sample(qid)
    text = layer_names.label(spec, base)
    return text if slot is None else text + labels.sup(f"({sample_number(spec, slot)})")


def sample_number(spec: Spec, slot: int | None) -> int:
    """The number (from 1) of the sample slot (from 1) holds in iteration 1."""
    assert slot is not None
    return slot if spec.mode == "batch" else first_batch(spec)[slot - 1]


def input_label(spec: Spec, i: int) -> str:
    """x[c,r,s] (or x[t,f]) of the input number i (from 0) in torch's flatten order."""
    index, rest = [], i
    for n in reversed(spec.input_shape):
        index.append(rest % n + 1)
        rest //= n
    return "x[" + ",".join(map(str, reversed(index))) + "]"


def target_label(j: int) -> str:
    return f"t[{j + 1}]"
