"""Graph operations on a pipeline's nodes: edges, topological order, cycles."""

from __future__ import annotations

from collections.abc import Iterable

from airflow_mlplat.pipeline.model import Node, split_reference


def upstream_ids(node: Node) -> list[str]:
    """The ids of the nodes whose outputs ``node`` consumes, in input order, without repeats."""
    seen: dict[str, None] = {}
    for ref in node.inputs.values():
        if isinstance(ref, str):
            seen.setdefault(split_reference(ref)[0], None)
    return list(seen)


def topological_order(nodes: Iterable[Node]) -> list[str]:
    """Node ids so that each comes after all its upstreams; ties keep document order.

    Raises ``CycleError`` naming one cycle. References to unknown nodes are ignored here
    (validation reports them).
    """
    nodes = list(nodes)
    ids = [n.id for n in nodes]
    known = set(ids)
    deps = {n.id: [u for u in upstream_ids(n) if u in known] for n in nodes}
    order: list[str] = []
    state: dict[str, int] = {}  # 1 = on the stack, 2 = done

    def visit(node_id: str, stack: list[str]) -> None:
        if state.get(node_id) == 2:
            return
        if state.get(node_id) == 1:
            raise CycleError(stack[stack.index(node_id) :] + [node_id])
        state[node_id] = 1
        stack.append(node_id)
        for upstream in deps[node_id]:
            visit(upstream, stack)
        stack.pop()
        state[node_id] = 2
        order.append(node_id)

    for node_id in ids:
        visit(node_id, [])
    return order


class CycleError(ValueError):
    def __init__(self, cycle: list[str]) -> None:
        self.cycle = cycle
        super().__init__(" -> ".join(cycle))
