"""Spark decision trees compiled into flat numpy arrays, scored for a whole batch at once.

All trees of an ensemble share one node table. A leaf points to itself and never moves, so
every row walks every tree in ``depth`` vectorised steps with no per-row Python loop.
Spark's rules: a continuous split goes left when ``x <= threshold`` (NaN goes right); a
categorical split goes left when ``x`` is one of the left categories.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class CompiledTrees:
    roots: np.ndarray  # (trees,) node index of each root
    feature: np.ndarray  # (nodes,) int64; 0 at leaves
    threshold: np.ndarray  # (nodes,) float64; +inf at leaves
    left: np.ndarray  # (nodes,) int64; itself at leaves
    right: np.ndarray
    prediction: np.ndarray  # (nodes,) the node's stored prediction
    stats: np.ndarray  # (nodes, k) impurity stats (class counts for classifiers)
    categorical: np.ndarray | None  # (nodes, max category + 1) bool "goes left", or None
    depth: int

    @property
    def num_trees(self) -> int:
        return len(self.roots)

    def leaves(self, features: np.ndarray) -> np.ndarray:
        """The leaf index reached in each tree for each row: (rows, trees)."""
        rows = features.shape[0]
        node = np.broadcast_to(self.roots, (rows, self.num_trees)).copy()
        row_index = np.arange(rows)[:, None]
        for _ in range(self.depth):
            values = features[row_index, self.feature[node]]
            go_left = values <= self.threshold[node]
            if self.categorical is not None:
                go_left = self._categorical(node, values, go_left)
            node = np.where(go_left, self.left[node], self.right[node])
        return node

    def _categorical(self, node: np.ndarray, values: np.ndarray, go_left: np.ndarray) -> np.ndarray:
        table = self.categorical
        is_categorical = table[:, -1][node]  # the last column flags categorical nodes
        if not is_categorical.any():
            return go_left
        width = table.shape[1] - 1
        whole = np.isfinite(values) & (values == np.floor(np.where(np.isfinite(values), values, 0)))
        index = np.where(whole & (values >= 0) & (values < width), values, -1).astype(np.int64)
        member = np.where(index >= 0, table[node, np.maximum(index, 0)], False)
        return np.where(is_categorical, member, go_left)


def _node_rows(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    return [row.get("nodeData", row) for row in rows]


def compile_trees(rows: Sequence[dict[str, Any]]) -> CompiledTrees:
    """Compile the rows of a saved tree model's ``data/`` (one tree, or ``treeID`` + ``nodeData``)."""
    by_tree: dict[int, list[dict[str, Any]]] = {}
    for row in rows:
        by_tree.setdefault(int(row.get("treeID", 0)), []).append(row)
    trees = [sorted(_node_rows(by_tree[t]), key=lambda n: n["id"]) for t in sorted(by_tree)]
    total = sum(len(t) for t in trees)
    width = max((len(n["impurityStats"]) for t in trees for n in t), default=0)
    feature = np.zeros(total, dtype=np.int64)
    threshold = np.full(total, np.inf)
    left = np.arange(total, dtype=np.int64)
    right = np.arange(total, dtype=np.int64)
    prediction = np.zeros(total)
    stats = np.zeros((total, width))
    categories: dict[int, list[float]] = {}
    roots, depth, offset = [], 0, 0
    for nodes in trees:
        roots.append(offset)
        for node in nodes:
            i = offset + node["id"]
            prediction[i] = node["prediction"]
            stats[i, : len(node["impurityStats"])] = node["impurityStats"]
            if node["leftChild"] < 0:
                continue
            split = node["split"]
            feature[i] = split["featureIndex"]
            left[i], right[i] = offset + node["leftChild"], offset + node["rightChild"]
            if split["numCategories"] == -1:
                threshold[i] = split["leftCategoriesOrThreshold"][0]
            else:
                categories[i] = split["leftCategoriesOrThreshold"]
                threshold[i] = -np.inf
        depth = max(depth, _depth(nodes))
        offset += len(nodes)
    table = None
    if categories:
        most = int(max((max(c) for c in categories.values() if c), default=0)) + 1
        table = np.zeros((total, most + 1), dtype=bool)
        for i, left_categories in categories.items():
            table[i, [int(c) for c in left_categories]] = True
            table[i, -1] = True
    return CompiledTrees(
        np.asarray(roots, dtype=np.int64), feature, threshold, left, right, prediction, stats, table, depth
    )


def _depth(nodes: list[dict[str, Any]]) -> int:
    by_id = {n["id"]: n for n in nodes}
    deepest, stack = 0, [(nodes[0]["id"], 0)]
    while stack:
        node_id, level = stack.pop()
        node = by_id[node_id]
        deepest = max(deepest, level)
        if node["leftChild"] >= 0:
            stack.append((node["leftChild"], level + 1))
            stack.append((node["rightChild"], level + 1))
    return deepest
