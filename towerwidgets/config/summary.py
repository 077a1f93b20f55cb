"""``model.summary()``-style tables for configs and quick tests.

A thin formatter: the counts come from the parameter counting in
``towerwidgets.codegen.params`` (the same numbers the View dialog shows); this module only
lays them out as rows (layer, output shape, params) with totals, as text or HTML.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any


@dataclass
class SummaryRow:
    """One line of the table: a layer (or an embedding table), its output and its size."""

    layer: str
    output_shape: str
    params: int
    estimated: bool = False


@dataclass
class ModelSummary:
    """The rows and totals of a model summary; ``str()`` is the text table."""

    title: str
    rows: list[SummaryRow] = field(default_factory=list)
    trainable: int = 0
    non_trainable: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.trainable + self.non_trainable

    @property
    def estimated(self) -> bool:
        """True when any count rests on an assumption (then shown with "≈")."""
        return any(row.estimated for row in self.rows)

    def _count(self, n: int, estimated: bool) -> str:
        return f"≈{n:,}" if estimated else f"{n:,}"

    def __str__(self) -> str:
        head = ("Layer (type)", "Output Shape", "Param #")
        body = [(r.layer, r.output_shape, self._count(r.params, r.estimated)) for r in self.rows]
        widths = [max(len(line[i]) for line in [head, *body]) + 2 for i in range(3)]

        def fmt(line: tuple[str, str, str]) -> str:
            return f"{line[0]:<{widths[0]}}{line[1]:<{widths[1]}}{line[2]:>{widths[2]}}"

        rule = "─" * sum(widths)
        est = self.estimated
        lines = [f'Model: "{self.title}"', rule, fmt(head), rule, *map(fmt, body), rule]
        lines += [
            f"Total params: {self._count(self.total, est)}",
            f"Trainable params: {self._count(self.trainable, est)}",
            f"Non-trainable params: {self._count(self.non_trainable, est)}",
        ]
        lines += [f"≈ {note}" for note in self.notes]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        cells = "".join(
            f"<tr><td>{html.escape(r.layer)}</td><td>{html.escape(r.output_shape)}</td>"
            f"<td style='text-align:right'>{self._count(r.params, r.estimated)}</td></tr>"
            for r in self.rows
        )
        est = self.estimated
        notes = "".join(f"<br><small>≈ {html.escape(n)}</small>" for n in self.notes)
        return (
            f"<b>Model: {html.escape(self.title)}</b>"
            "<table><thead><tr><th>Layer (type)</th><th>Output Shape</th><th>Param #</th>"
            f"</tr></thead><tbody>{cells}</tbody></table>"
            f"Total params: {self._count(self.total, est)} · "
            f"Trainable: {self._count(self.trainable, est)} · "
            f"Non-trainable: {self._count(self.non_trainable, est)}{notes}"
        )


def _shape(width: int) -> str:
    return f"(None, {width})"


def model_summary(
    model_config: Any,
    feature_config: Any = None,
    vocabulary_sizes: dict[str, int] | None = None,
) -> ModelSummary:
    """The summary of the model a ModelConfig (with a FeatureConfig) generates.

    The same assumptions as the one count every screen shows (``count_params``), so the
    totals agree: without ``feature_config`` each tower input is ``ASSUMED_INPUT_DIM`` wide
    and no embedding is counted; an embedding whose vocabulary is not in
    ``vocabulary_sizes`` is not counted yet. Every assumed count is marked "≈".
    """
    from towerwidgets.codegen.params import ASSUMED_INPUT_DIM, _layers_params
    from towerwidgets.codegen.plan import NUM_OOV_BUCKETS, build_plan

    mc = model_config
    summary = ModelSummary(title=f"{mc.name or 'unnamed'} ({mc.model_type})")
    vocabulary_sizes = dict(vocabulary_sizes or {})
    plan = build_plan(feature_config) if feature_config is not None else None
    if plan is None:
        summary.notes.append(
            f"no FeatureConfig: tower inputs assumed {ASSUMED_INPUT_DIM} wide, embedding "
            "tables not counted; pass feature_config= for the full count"
        )
    assumed_vocab = False
    outputs: dict[str, int] = {}
    for tower in ("buyer", "product"):
        if plan is not None:
            width = plan.tensor_dim(tower)
            for feature in plan.tower(tower):
                if feature.kind == "embedding":
                    known = next(
                        (
                            vocabulary_sizes[n]
                            for n in (feature.key, feature.column)
                            if n in vocabulary_sizes
                        ),
                        None,
                    )
                    estimated = known is None
                    params = (
                        0 if estimated else (int(known) + NUM_OOV_BUCKETS) * feature.embedding_dim
                    )
                    assumed_vocab |= estimated
                elif feature.kind in ("bucketize", "cross"):
                    params, estimated = feature.num_buckets * feature.embedding_dim, False
                else:
                    continue
                summary.rows.append(
                    SummaryRow(
                        f"{feature.key} (Embedding)",
                        _shape(feature.embedding_dim),
                        params,
                        estimated,
                    )
                )
                summary.trainable += params
            summary.rows.append(SummaryRow(f"{tower}/input (Concatenate)", _shape(width), 0))
        else:
            width = ASSUMED_INPUT_DIM
        layers = mc.buyer_tower_layers if tower == "buyer" else mc.product_tower_layers
        shared = tower == "product" and mc.share_tower_weights
        assumed_input = plan is None
        for layer in layers:
            trainable, frozen, new_width = _layers_params([layer], width)
            width = new_width
            name = f"{tower}/{layer.label()}" + (" (shared with buyer)" if shared else "")
            if shared:
                trainable = frozen = 0
            summary.rows.append(
                SummaryRow(name, _shape(width), trainable + frozen, assumed_input and not shared)
            )
            assumed_input = assumed_input and layer.type != "dense"
            summary.trainable += trainable
            summary.non_trainable += frozen
        outputs[tower] = width
    if mc.model_type in ("ranking", "multitask"):
        width = outputs["buyer"] + outputs["product"]
        summary.rows.append(SummaryRow("rating_head/input (Concatenate)", _shape(width), 0))
        for layer in mc.rating_head_layers:
            trainable, frozen, width = _layers_params([layer], width)
            summary.rows.append(
                SummaryRow(f"rating_head/{layer.label()}", _shape(width), trainable + frozen)
            )
            summary.trainable += trainable
            summary.non_trainable += frozen
    if assumed_vocab:
        summary.notes.append(
            "embedding tables whose vocabularies are not known yet are not counted; "
            "a finished quick test shows the exact count"
        )
    return summary
