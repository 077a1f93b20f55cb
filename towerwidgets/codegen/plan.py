"""The generation plan: what the Transform module outputs and what each tower reads.

One plan is derived from a FeatureConfig (plus the rating column); both templates and the
parameter estimate read it, so the transformed feature keys, vocabulary names and embedding
sizes always agree between the Transform module, the Trainer module and ``params``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from towerwidgets.codegen.naming import TF_OP_NAME, Namer, sanitize

# Keys of the transformed examples that are not tower inputs. Tower feature keys always
# start with "buyer_" or "product_", so these can never collide with them.
CANDIDATE_ID_KEY = "candidate_id"
LABEL_FEATURE_KEY = "label"
NUM_OOV_BUCKETS = 1

PERIOD_SECONDS = {"day": 86_400, "week": 604_800, "year": 31_556_952}
NUMERIC_TRANSFORMS = ("normalize", "bucketize", "cyclical")
_SUFFIX = {"embedding": "", "normalize": "_z", "bucketize": "_bucket", "cyclical": "_cyc"}


@dataclass(frozen=True)
class PlannedFeature:
    """One tower input: a transformed column (or a hashed cross) and how the tower uses it."""

    tower: str
    kind: str  # embedding | normalize | bucketize | cyclical | cross
    columns: tuple[str, ...]  # one raw column, or the crossed columns
    key: str  # transformed feature key (cyclical: base of key_sin / key_cos)
    attr: str  # Keras layer attribute in the tower (embedding kinds only)
    embedding_dim: int = 0
    num_buckets: int = 0  # bucketize: buckets; cross: hash buckets
    period: str = ""
    output_dim: int = 0

    @property
    def column(self) -> str:
        return self.columns[0]

    @property
    def output_keys(self) -> tuple[str, ...]:
        if self.kind == "cyclical":
            return (f"{self.key}_sin", f"{self.key}_cos")
        return (self.key,)

    @property
    def has_embedding(self) -> bool:
        return self.kind in ("embedding", "bucketize", "cross")

    @property
    def vocab_name(self) -> str | None:
        return self.key if self.kind == "embedding" else None

    @property
    def period_seconds(self) -> int:
        return PERIOD_SECONDS[self.period]

    def describe(self) -> str:
        if self.kind == "embedding":
            return f"vocabulary → embedding({self.embedding_dim})"
        if self.kind == "normalize":
            return "z-score"
        if self.kind == "bucketize":
            return f"{self.num_buckets} quantile buckets → embedding({self.embedding_dim})"
        if self.kind == "cyclical":
            return f"{self.period} cycle → sin, cos"
        return f"hashed cross ({self.num_buckets} buckets) → embedding({self.embedding_dim})"


@dataclass
class Plan:
    buyer_id_column: str
    product_id_column: str
    label_column: str | None
    raw_column_types: dict[str, str]  # raw column → "string" | "float" | "int"
    serving_names: dict[str, str]  # raw column → SavedModel signature input name
    buyer: list[PlannedFeature] = field(default_factory=list)
    product: list[PlannedFeature] = field(default_factory=list)

    def tower(self, name: str) -> list[PlannedFeature]:
        return self.buyer if name == "buyer" else self.product

    def tower_columns(self, name: str) -> list[str]:
        """Raw columns one tower reads, in first-use order."""
        cols = [c for f in self.tower(name) for c in f.columns]
        return list(dict.fromkeys(cols))

    def serving_inputs(self, towers: tuple[str, ...]) -> list[tuple[str, str, str]]:
        """(raw column, signature name, type) for the raw inputs of the given towers."""
        cols = list(dict.fromkeys(c for t in towers for c in self.tower_columns(t)))
        return [(c, self.serving_names[c], self.raw_column_types[c]) for c in cols]

    def tensor_dim(self, name: str) -> int:
        return sum(f.output_dim for f in self.tower(name))

    @property
    def features(self) -> list[PlannedFeature]:
        return [*self.buyer, *self.product]

    @property
    def feature_keys(self) -> dict[str, list[str]]:
        return {t: [k for f in self.tower(t) for k in f.output_keys] for t in ("buyer", "product")}

    def to_dict(self) -> dict[str, Any]:
        return {
            "raw_column_types": dict(self.raw_column_types),
            "serving_names": dict(self.serving_names),
            "buyer": [f.__dict__ for f in self.buyer],
            "product": [f.__dict__ for f in self.product],
        }


def compatibility_problems(feature_config: Any, rating_column: str | None) -> list[str]:
    """Problems that make a FeatureConfig impossible to generate (beyond its own validate())."""
    problems: list[str] = []
    ids = {feature_config.buyer_id_column, feature_config.product_id_column}
    for tower in ("buyer", "product"):
        for feature in feature_config.features(tower):
            if feature.column in ids and feature.transform in NUMERIC_TRANSFORMS:
                problems.append(
                    f"Column {feature.column!r} is an id column (read as text), so it cannot use "
                    f"the numeric transform {feature.transform!r}"
                )
    if rating_column:
        used = set(feature_config.columns())
        if rating_column in used:
            problems.append(
                f"Rating column {rating_column!r} is also a feature or id column; a model must "
                "not see its label as an input"
            )
    return problems


def build_plan(feature_config: Any, rating_column: str | None = None) -> Plan:
    """Derive the plan. Assumes the config is valid (see ``compatibility_problems``)."""
    namer = Namer(reserved={CANDIDATE_ID_KEY, LABEL_FEATURE_KEY})
    towers: dict[str, list[PlannedFeature]] = {"buyer": [], "product": []}
    for tower in ("buyer", "product"):
        for feature in feature_config.features(tower):
            base = f"{tower}_{sanitize(feature.column)}{_SUFFIX[feature.transform]}"
            key = namer.name(base)
            towers[tower].append(
                PlannedFeature(
                    tower=tower,
                    kind=feature.transform,
                    columns=(feature.column,),
                    key=key,
                    attr=_attr(key, tower),
                    embedding_dim=int(feature.embedding_dim or 0)
                    if feature.transform in ("embedding", "bucketize")
                    else 0,
                    num_buckets=int(feature.num_buckets or 0)
                    if feature.transform == "bucketize"
                    else 0,
                    period=(feature.period or "day") if feature.transform == "cyclical" else "",
                    output_dim=int(feature.output_dim),
                )
            )
        for cross in feature_config.tower_crosses(tower):
            parts = "_x_".join(sanitize(c)[:10] for c in cross.columns)
            key = namer.name(f"{tower}_cross_{parts}")
            towers[tower].append(
                PlannedFeature(
                    tower=tower,
                    kind="cross",
                    columns=tuple(cross.columns),
                    key=key,
                    attr=_attr(key, tower),
                    embedding_dim=int(cross.embedding_dim),
                    num_buckets=int(cross.hash_buckets),
                    output_dim=int(cross.embedding_dim),
                )
            )

    types = _raw_column_types(feature_config, towers, rating_column)
    return Plan(
        buyer_id_column=feature_config.buyer_id_column,
        product_id_column=feature_config.product_id_column,
        label_column=rating_column or None,
        raw_column_types=types,
        serving_names=_serving_names(list(types)),
        buyer=towers["buyer"],
        product=towers["product"],
    )


def _attr(key: str, tower: str) -> str:
    return key[len(tower) + 1 :] + "_embedding"


def _raw_column_types(
    feature_config: Any, towers: dict[str, list[PlannedFeature]], rating_column: str | None
) -> dict[str, str]:
    """Ids and categories are strings; numeric transforms read numbers (timestamps as int)."""
    order = [feature_config.buyer_id_column, feature_config.product_id_column]
    order += [c for t in ("buyer", "product") for f in towers[t] for c in f.columns]
    types: dict[str, str] = {}
    numeric: dict[str, str] = {}
    for t in ("buyer", "product"):
        for f in towers[t]:
            if f.kind == "cyclical":
                numeric[f.column] = "int"
            elif f.kind in ("normalize", "bucketize"):
                numeric.setdefault(f.column, "float")
    ids = {feature_config.buyer_id_column, feature_config.product_id_column}
    for column in dict.fromkeys(order):
        types[column] = "string" if column in ids else numeric.get(column, "string")
    if rating_column:
        types[rating_column] = "float"
    return types


def _serving_names(columns: list[str]) -> dict[str, str]:
    """Signature input names: the raw column name when TensorFlow accepts it, else sanitized."""
    namer = Namer(reserved={c for c in columns if TF_OP_NAME.fullmatch(c)})
    names = {}
    for column in columns:
        names[column] = column if TF_OP_NAME.fullmatch(column) else namer.name(sanitize(column))
    return names
