"""FeatureConfig: which columns feed each tower, and how each is transformed."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from towerwidgets.config.base import StoredModel

if TYPE_CHECKING:
    import pandas as pd

Transform = Literal["embedding", "normalize", "bucketize", "cyclical"]
Period = Literal["day", "week", "year"]
TowerName = Literal["buyer", "product"]

DEFAULT_EMBEDDING_DIM = 32
DEFAULT_BUCKET_EMBEDDING_DIM = 8
DEFAULT_NUM_BUCKETS = 10
DEFAULT_CROSS_BUCKETS = 1000
DEFAULT_CROSS_EMBEDDING_DIM = 16
# Transforms that read a column as a number (the rest read it as a category string).
NUMERIC_TRANSFORMS = ("normalize", "bucketize", "cyclical")


class Feature(BaseModel):
    """One column feeding a tower through one transform.

    embedding: vocabulary + embedding(embedding_dim); normalize: z-score (1 value);
    bucketize: quantile buckets (num_buckets) + embedding(embedding_dim);
    cyclical: a timestamp's phase within ``period`` as sin and cos (2 values).
    """

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    column: str = Field(min_length=1, max_length=255)
    transform: Transform = "embedding"
    embedding_dim: int | None = Field(default=None, ge=1, le=1024)
    num_buckets: int | None = Field(default=None, ge=2, le=10000)
    period: Period | None = None

    @model_validator(mode="after")
    def _fill_defaults(self) -> Feature:
        # object.__setattr__ avoids re-running validation on assignment from inside a validator.
        if self.transform == "embedding" and self.embedding_dim is None:
            object.__setattr__(self, "embedding_dim", DEFAULT_EMBEDDING_DIM)
        if self.transform == "bucketize":
            if self.num_buckets is None:
                object.__setattr__(self, "num_buckets", DEFAULT_NUM_BUCKETS)
            if self.embedding_dim is None:
                object.__setattr__(self, "embedding_dim", DEFAULT_BUCKET_EMBEDDING_DIM)
        if self.transform == "cyclical" and self.period is None:
            object.__setattr__(self, "period", "day")
        return self

    @property
    def output_dim(self) -> int:
        if self.transform in ("embedding", "bucketize"):
            return int(self.embedding_dim or 0)
        return 1 if self.transform == "normalize" else 2

    def describe(self) -> str:
        if self.transform == "embedding":
            return f"{self.column}: vocabulary → embedding({self.embedding_dim})"
        if self.transform == "normalize":
            return f"{self.column}: z-score"
        if self.transform == "bucketize":
            return f"{self.column}: {self.num_buckets} buckets → embedding({self.embedding_dim})"
        return f"{self.column}: cyclical ({self.period})"


class Cross(BaseModel):
    """A hashed feature cross of two or more columns, embedded in one tower."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    tower: TowerName
    columns: list[str] = Field(min_length=2, max_length=4)
    hash_buckets: int = Field(default=DEFAULT_CROSS_BUCKETS, ge=2, le=10_000_000)
    embedding_dim: int = Field(default=DEFAULT_CROSS_EMBEDDING_DIM, ge=1, le=1024)

    @property
    def output_dim(self) -> int:
        return self.embedding_dim

    def describe(self) -> str:
        return f"{' × '.join(self.columns)}: hash({self.hash_buckets}) → embedding({self.embedding_dim})"


class FeatureConfig(StoredModel):
    """What features feed each tower (the spec's Features chapter, made ours)."""

    name: str = Field(default="", max_length=255)
    description: str = ""
    buyer_id_column: str = ""
    product_id_column: str = ""
    buyer_features: list[Feature] = Field(default_factory=list)
    product_features: list[Feature] = Field(default_factory=list)
    crosses: list[Cross] = Field(default_factory=list)

    def __str__(self) -> str:
        return f"{self.name} (buyer {self.buyer_tensor_dim}D, product {self.product_tensor_dim}D)"

    def _repr_html_(self) -> str:
        """Notebook display: each tower's features, their transform and output width."""
        import html

        from towerwidgets.codegen.plan import build_plan

        try:
            plan = build_plan(self)
        except Exception:  # a draft the plan cannot handle yet: the one-line form
            return html.escape(str(self))
        rows = "".join(
            f"<tr><td>{tower}</td><td>{html.escape(', '.join(f.columns))}</td>"
            f"<td>{html.escape(f.describe())}</td><td>{f.output_dim}D</td></tr>"
            for tower in ("buyer", "product")
            for f in plan.tower(tower)
        )
        return (
            f"<b>{html.escape(str(self))}</b><table><thead><tr><th>Tower</th><th>Column</th>"
            f"<th>Transform</th><th>Output</th></tr></thead><tbody>{rows}</tbody></table>"
        )

    # ── derived dimensions ──────────────────────────────────────────────────────────────

    def features(self, tower: TowerName) -> list[Feature]:
        return self.buyer_features if tower == "buyer" else self.product_features

    def tower_crosses(self, tower: TowerName) -> list[Cross]:
        return [cross for cross in self.crosses if cross.tower == tower]

    def tensor_dim(self, tower: TowerName) -> int:
        return sum(f.output_dim for f in self.features(tower)) + sum(
            c.output_dim for c in self.tower_crosses(tower)
        )

    @property
    def buyer_tensor_dim(self) -> int:
        return self.tensor_dim("buyer")

    @property
    def product_tensor_dim(self) -> int:
        return self.tensor_dim("product")

    def columns(self) -> list[str]:
        """Every raw column this config reads, in a stable order, without repeats."""
        names = [self.buyer_id_column, self.product_id_column]
        names += [f.column for f in self.buyer_features + self.product_features]
        names += [col for cross in self.crosses for col in cross.columns]
        return list(dict.fromkeys(n for n in names if n))

    def summary(self) -> dict[str, Any]:
        """The spec's feature_config summary (code-generation response, Quick Test panel)."""
        return {
            "id": self.id,
            "name": self.name,
            "buyer_tensor_dim": self.buyer_tensor_dim,
            "product_tensor_dim": self.product_tensor_dim,
            "cross_features": len(self.crosses),
        }

    # ── validation ──────────────────────────────────────────────────────────────────────

    def validate(self) -> list[str]:  # type: ignore[override]
        """Blocking problems of the config itself, one readable sentence each."""
        errors: list[str] = []
        if not self.name.strip():
            errors.append("Feature config name is required")
        if not self.buyer_id_column:
            errors.append("Buyer id column is required")
        if not self.product_id_column:
            errors.append("Product id column is required")
        if self.buyer_id_column and self.buyer_id_column == self.product_id_column:
            errors.append("Buyer and product id columns must be different columns")
        for tower in ("buyer", "product"):
            features = self.features(tower)
            if not features and not self.tower_crosses(tower):
                errors.append(f"The {tower} tower needs at least one feature")
            seen: set[tuple[str, str]] = set()
            for feature in features:
                key = (feature.column, feature.transform)
                if key in seen:
                    errors.append(
                        f"The {tower} tower uses column {feature.column!r} with transform "
                        f"{feature.transform!r} twice"
                    )
                seen.add(key)
        for cross in self.crosses:
            if len(set(cross.columns)) != len(cross.columns):
                errors.append(f"Cross {' × '.join(cross.columns)} repeats a column")
        return errors

    def is_valid(self) -> bool:
        return not self.validate()

    def validate_against(self, df: pd.DataFrame) -> list[str]:
        """Problems between this config and a dataset: missing columns, unfit dtypes, no rows."""
        import pandas as pd

        errors: list[str] = []
        if len(df) == 0:
            errors.append("The data has no rows")
        available = [str(c) for c in df.columns]
        hint = ", ".join(available[:20]) + (" …" if len(available) > 20 else "")
        uses: list[tuple[str, str, str | None]] = [
            (self.buyer_id_column, "buyer id column", None),
            (self.product_id_column, "product id column", None),
        ]
        for tower in ("buyer", "product"):
            uses += [(f.column, f"{tower} feature", f.transform) for f in self.features(tower)]
        uses += [(col, f"{c.tower} cross", None) for c in self.crosses for col in c.columns]
        reported: set[str] = set()
        if isinstance(df.columns, pd.MultiIndex):
            return [
                *errors,
                "The data has multi-level column names; flatten them first, e.g. "
                "df.columns = ['_'.join(map(str, c)) for c in df.columns]",
            ]
        labels = list(df.columns)
        for column, role, transform in uses:
            if not column:
                continue
            if column not in df.columns:
                if column not in reported:
                    errors.append(
                        f"Column {column!r} ({role}) is not in the data; available: {hint}"
                    )
                    reported.add(column)
                continue
            if labels.count(column) > 1:
                if column not in reported:
                    errors.append(
                        f"Column {column!r} ({role}) appears {labels.count(column)} times in the "
                        "data; rename or drop the copies"
                    )
                    reported.add(column)
                continue
            if transform in NUMERIC_TRANSFORMS:
                series = df[column]
                if not reads_as_numbers(series):
                    errors.append(
                        f"Column {column!r} has dtype {series.dtype} but transform {transform!r} "
                        "needs numbers; use transform 'embedding' for categories"
                    )
                elif len(series) and series.isna().all():
                    errors.append(f"Column {column!r} has no values (all missing)")
        return errors

    # ── inference ───────────────────────────────────────────────────────────────────────

    @classmethod
    def infer(
        cls,
        df: pd.DataFrame,
        buyer_columns: list[str],
        product_columns: list[str],
        *,
        name: str = "Inferred features",
        buyer_id_column: str | None = None,
        product_id_column: str | None = None,
    ) -> FeatureConfig:
        """Propose a FeatureConfig from data: ids and categories embedded, numbers z-scored,
        timestamps z-scored plus a cyclical day phase. The first column of each list is its
        tower's id unless named otherwise.
        """
        if not buyer_columns or not product_columns:
            raise ValueError("infer() needs at least one buyer column and one product column")
        missing = [c for c in [*buyer_columns, *product_columns] if c not in df.columns]
        if missing:
            raise ValueError(
                f"Columns not in the data: {', '.join(map(repr, missing))}; "
                f"available: {', '.join(map(str, df.columns))}"
            )
        buyer_id = buyer_id_column or buyer_columns[0]
        product_id = product_id_column or product_columns[0]
        return cls(
            name=name,
            buyer_id_column=buyer_id,
            product_id_column=product_id,
            buyer_features=_infer_features(df, buyer_columns, buyer_id),
            product_features=_infer_features(df, product_columns, product_id),
        )


def reads_as_numbers(series: pd.Series) -> bool:
    """Whether a numeric transform can read the column: numbers (nullable and pyarrow ones
    too, not booleans), datetimes (tz-aware too; read as epoch seconds), or text whose
    every present value is a number ("42") or a date ("2024-05-01 12:00")."""
    import pandas as pd

    if pd.api.types.is_bool_dtype(series):
        return False
    if pd.api.types.is_numeric_dtype(series) or pd.api.types.is_datetime64_any_dtype(series):
        return True
    if not (pd.api.types.is_object_dtype(series) or pd.api.types.is_string_dtype(series)):
        return False  # categorical, timedelta, period, interval ...
    present = series[series.notna()]
    if any(isinstance(v, bool) for v in present.head(1000)):
        return False
    if pd.to_numeric(present.astype(str), errors="coerce").notna().all():
        return True
    sample = present.head(1000).astype(str)  # dates: a sample (parsing text is slow)
    try:
        parsed = pd.to_datetime(sample, utc=True, errors="coerce", format="mixed")
    except (ValueError, TypeError, OverflowError):
        return False
    return bool(parsed.notna().all())


def _embedding_dim(cardinality: int) -> int:
    """Rule-of-thumb width: grows slowly with the vocabulary, between 4 and 32."""
    return int(min(32, max(4, 2 ** round(math.log2(max(2.0, 1.6 * cardinality**0.56))))))


def _looks_like_time(name: str) -> bool:
    lowered = name.lower()
    return any(word in lowered for word in ("timestamp", "time", "date", "_at"))


def _infer_features(df: pd.DataFrame, columns: list[str], id_column: str) -> list[Feature]:
    import pandas as pd

    features: list[Feature] = []
    ordered = [id_column, *[c for c in columns if c != id_column]]
    for column in ordered:
        series = df[column]
        if column == id_column:
            features.append(Feature(column=column, transform="embedding"))
            continue
        is_number = pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)
        if pd.api.types.is_datetime64_any_dtype(series) or (is_number and _looks_like_time(column)):
            features.append(Feature(column=column, transform="normalize"))
            features.append(Feature(column=column, transform="cyclical", period="week"))
        elif is_number and (
            pd.api.types.is_float_dtype(series) or series.nunique(dropna=True) > 50
        ):
            features.append(Feature(column=column, transform="normalize"))
        else:
            dim = _embedding_dim(int(series.nunique(dropna=True)))
            features.append(Feature(column=column, transform="embedding", embedding_dim=dim))
    return features
