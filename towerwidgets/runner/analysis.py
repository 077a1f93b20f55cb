"""tensorflow-transform's analysis without Beam, for a quick test's data (worker side).

``tft_beam.AnalyzeDataset`` traces the ``preprocessing_fn``, builds tft's analysis graph (a
DAG of nodes: apply a phase's SavedModel to the data, accumulate and merge combiners, count,
order and write vocabularies, bind the results into the final SavedModel) and turns each
node into Beam transforms. On a quick test's data Beam's fixed cost dominates: building,
translating and running some 500 transforms takes about 3 s whatever the number of rows.

This module walks the *same* DAG with tft's own ``Traverser`` and runs every node on Python
lists in this process, with tft's own pieces wherever the work is not Beam plumbing: its
combiners (means and variances, quantiles), its DoFn that applies a phase's SavedModel, its
SavedModel writer and its metadata. Only the few Beam transforms in between (count per
token, sort, write the vocabulary file) are written again here, following tft 1.21's
``beam/analyzer_impls.py`` line by line. The transform graph it writes is therefore the one
Beam writes: tests compare the two on every transform kind the code generator emits.

A node this module does not know (analyzer caches, per-key combiners, mutual-information
or weighted vocabularies, custom PTransform analyzers) raises :class:`Unsupported` before
anything is written, and the caller runs the Beam pipeline instead.
"""

from __future__ import annotations

import collections
import hashlib
import os
import shutil
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

# tensorflow-transform 1.21's analysis nodes; the worker pins this version (pyproject).
_FREQUENCY = 1  # analyzers._VocabOrderingType.FREQUENCY


class Unsupported(Exception):
    """The analysis graph holds a node that only the Beam pipeline implements."""


def analyze(
    preprocessing_fn: Callable,
    batches: Iterable[Any],
    adapter_config: Any,
    temp_dir: str,
    output_dir: str,
) -> None:
    """Analyse ``preprocessing_fn`` over ``batches`` (Arrow record batches of list columns,
    as ``AnalyzeDataset`` receives them) and write ``output_dir`` as ``WriteTransformFn``
    does: ``transform_fn/`` (the SavedModel) and ``transformed_metadata/``."""
    import tensorflow_transform.beam as tft_beam
    from tensorflow_transform import annotators, graph_tools, impl_helper, nodes
    from tensorflow_transform.beam import analysis_graph_builder
    from tensorflow_transform.beam import common as beam_common
    from tensorflow_transform.beam import impl as beam_impl
    from tensorflow_transform.tf_metadata import metadata_io
    from tfx_bsl.tfxio.tensor_adapter import TensorAdapter

    with tft_beam.Context(temp_dir=temp_dir, force_tf_compat_v1=False):
        Context = tft_beam.Context
        specs = TensorAdapter(adapter_config).OriginalTypeSpecs()
        base_temp_dir = Context.create_base_temp_dir()
        graph, structured_inputs, structured_outputs = impl_helper.trace_preprocessing_function(
            preprocessing_fn, specs, False, base_temp_dir
        )
        asset_map = annotators.get_asset_annotations(graph)
        annotators.clear_asset_annotations(graph)
        extra_args = beam_common.ConstructBeamPipelineVisitor.ExtraArgs(
            base_temp_dir=base_temp_dir,
            tf_config=None,
            pipeline=None,
            flat_pcollection=None,
            pcollection_dict={},
            graph=graph,
            input_signature=structured_inputs,
            input_specs=specs,
            input_tensor_adapter_config=adapter_config,
            use_tf_compat_v1=False,
            cache_pcoll_dict=None,
            preprocessing_fn=preprocessing_fn,
            analyzers_fingerprint=graph_tools.get_analyzers_fingerprint(graph, structured_inputs),
            save_options=Context.get_save_options(),
        )
        transform_fn_future, _, side_effects = analysis_graph_builder.build(
            graph, structured_inputs, structured_outputs, [], cache_dict=None
        )
        visitor = _InMemoryVisitor(extra_args, list(batches))
        _check_supported(transform_fn_future, side_effects, visitor)
        traverser = nodes.Traverser(visitor)
        (saved_model_dir,) = traverser.visit_value_node(transform_fn_future)
        for node in side_effects:
            traverser.visit_value_node(node)
        metadata = beam_impl._infer_metadata_from_saved_model(saved_model_dir, False)

    # WriteTransformFn's layout: the SavedModel and the metadata beside it (with the
    # vocabulary asset map, as WriteMetadata writes it).
    import tensorflow_transform as tft

    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    metadata_path = out / tft.TFTransformOutput.TRANSFORMED_METADATA_DIR
    metadata_io.write_metadata(metadata, str(metadata_path))
    if asset_map:
        import json

        (metadata_path / tft.TFTransformOutput.ASSET_MAP).write_text(json.dumps(asset_map))
    shutil.copytree(saved_model_dir, out / tft.TFTransformOutput.TRANSFORM_FN_DIR)


def _check_supported(future: Any, side_effects: list, visitor: _InMemoryVisitor) -> None:
    """Raise Unsupported for the first node without an in-memory version, before any
    node runs (so nothing is half-written when the caller falls back to Beam)."""
    seen: set[int] = set()
    stack = [future, *side_effects]
    while stack:
        value_node = stack.pop()
        operation = value_node.parent_operation
        if id(operation) in seen:
            continue
        seen.add(id(operation))
        visitor.handler(operation.operation_def)
        stack.extend(operation.inputs)


class _InMemoryVisitor:
    """Runs each node of tft's analysis graph on lists: a list stands for a PCollection."""

    def __init__(self, extra_args: Any, batches: list):
        self.args = extra_args
        self.batches = batches

    def validate_value(self, value: Any) -> None:
        assert isinstance(value, list), value

    def handler(self, operation_def: Any) -> Callable:
        name = type(operation_def).__name__
        handler = getattr(self, f"_{name}", None)
        if handler is None:
            raise Unsupported(f"tft analysis node {name}")
        check = getattr(self, f"_supports_{name}", None)
        if check is not None:
            check(operation_def)
        return handler

    def visit(self, operation_def: Any, input_values: tuple) -> tuple:
        return tuple(self.handler(operation_def)(operation_def, *input_values))

    # ── data and phases (beam/impl.py) ──────────────────────────────────────────────

    def _ExtractInputForSavedModel(self, op: Any) -> tuple:
        if not op.dataset_key.is_flattened_dataset_key():
            raise Unsupported("analysis over several datasets")
        return (list(self.batches),)

    def _CreateTensorBinding(self, op: Any, values: list) -> tuple:
        from tensorflow_transform.beam.impl import _TensorBinding

        return (
            [
                _TensorBinding(value, op.tensor_name, op.dtype_enum, op.is_asset_filepath)
                for value in values
            ],
        )

    def _CreateSavedModel(self, op: Any, *bindings: list) -> tuple:
        from tensorflow_transform.beam import impl as beam_impl

        create = beam_impl._CreateSavedModelImplV2(op, self.args)
        replacements = beam_impl._get_tensor_replacement_map(None, *(b[0] for b in bindings))
        saved_model_dir = beam_impl._create_v2_saved_model(
            replacements,
            self.args.base_temp_dir,
            self.args.preprocessing_fn,
            self.args.input_specs,
            self.args.analyzers_fingerprint,
            create._maybe_get_output_tensor_names_dict(),
            self.args.save_options,
        )
        return ([saved_model_dir],)

    def _ApplySavedModel(self, op: Any, saved_model_dirs: list, batches: list) -> tuple:
        import numpy as np
        import tensorflow as tf
        from apache_beam.utils import shared
        from tensorflow_transform.beam.impl import _RunMetaGraphDoFn

        (saved_model_dir,) = saved_model_dirs
        do_fn = _RunMetaGraphDoFn(
            None,
            use_tf_compat_v1=False,
            input_tensor_adapter_config=self.args.input_tensor_adapter_config,
            shared_graph_state_handle=shared.Shared(),
            passthrough_keys=[],
        )
        do_fn.setup()
        outputs = []
        for batch in batches:
            for result in do_fn.process(batch, saved_model_dir):
                outputs.append(
                    {
                        key: np.asarray(value) if isinstance(value, tf.Tensor) else value
                        for key, value in result.items()
                    }
                )
        return (outputs,)

    def _ExtractFromDict(self, op: Any, values: list) -> tuple:
        keys = op.keys
        if isinstance(keys, tuple):
            return ([tuple(value[key] for key in keys) for value in values],)
        return ([value[keys] for value in values],)

    def _Flatten(self, op: Any, *values: list) -> tuple:
        return ([item for value in values for item in value],)

    # ── combiners (beam/analyzer_impls.py: _CombinerWrapper and friends) ────────────

    def _CacheableCombineAccumulate(self, op: Any, values: list) -> tuple:
        return ([_accumulate(op.combiner, values)],)

    def _CacheableCombineMerge(self, op: Any, accumulators: list) -> tuple:
        return ([_merge_and_extract(op.combiner, accumulators)],)

    def _PackedCombineAccumulate(self, op: Any, values: list) -> tuple:
        accumulators = {}
        for combine in op.combiners:
            inputs = [tuple(value[key] for key in combine.keys) for value in values]
            accumulators[combine.label] = _accumulate(combine.combiner, inputs)
        return ([accumulators],)

    def _PackedCombineMerge(self, op: Any, keyed: list) -> tuple:
        by_label: dict[str, list] = collections.defaultdict(list)
        for label, accumulator in keyed:
            by_label[label].append(accumulator)
        outputs = {}
        for combine in op.combiners:
            (label,) = combine.keys
            outputs[combine.label] = _merge_and_extract(combine.combiner, by_label[label])
        return ([outputs],)

    def _AddKey(self, op: Any, values: list) -> tuple:
        return ([(op.key, value) for value in values],)

    def _FlattenLists(self, op: Any, values: list) -> tuple:
        return ([item for value in values for item in value],)

    def _ExtractCombineMergeOutputs(self, op: Any, values: list) -> tuple:
        per_output: list[list] = [[] for _ in range(op.num_outputs)]
        for outputs in values:
            if len(outputs) != op.num_outputs:
                raise ValueError(
                    f"Analyzer has {op.num_outputs} outputs but its implementation "
                    f"produced {len(outputs)} values"
                )
            for index, output in enumerate(outputs):
                per_output[index].append(output)
        return tuple(per_output)

    _ExtractPackedCombineMergeOutputs = _ExtractCombineMergeOutputs

    # ── vocabularies (beam/analyzer_impls.py: _Vocabulary*Impl) ─────────────────────

    def _supports_VocabularyAccumulate(self, op: Any) -> None:
        if op.vocab_ordering_type != _FREQUENCY:
            raise Unsupported("a vocabulary ordered by weights or mutual information")

    def _VocabularyAccumulate(self, op: Any, values: list) -> tuple:
        counts: collections.Counter = collections.Counter()
        for (batch_value,) in values:
            counts.update(batch_value.tolist())
        return (list(counts.items()),)

    _supports_VocabularyMerge = _supports_VocabularyAccumulate

    def _VocabularyMerge(self, op: Any, token_counts: list) -> tuple:
        merged: collections.Counter = collections.Counter()
        for token, count in token_counts:
            merged[token] += count
        return ([(count, token) for token, count in merged.items()],)

    def _VocabularyCount(self, op: Any, counts: list) -> tuple:
        import numpy as np

        # Empty vocabularies are written with one dummy token: the count is at least 1.
        return ([np.int64(max(len(counts), 1))],)

    def _supports_VocabularyPrune(self, op: Any) -> None:
        if op.key_fn or op.coverage_top_k is not None:
            raise Unsupported("a coverage vocabulary")

    def _VocabularyPrune(self, op: Any, counts: list) -> tuple:
        import tensorflow as tf
        from tensorflow_transform.beam.analyzer_impls import maybe_add_empty_vocabulary_dummy

        threshold, info_threshold = op.frequency_threshold, op.informativeness_threshold
        if (threshold is not None and threshold < 0) or (op.top_k is not None and op.top_k < 0):
            raise ValueError("top_k and frequency_threshold must be >= 0 or None")
        if threshold is None:
            threshold = 0
        if info_threshold is None:
            info_threshold = float("-inf")
        if threshold > 0 or info_threshold > float("-inf"):

            def keep(item: tuple) -> bool:
                values, _ = item
                informativeness, freq = (
                    values if isinstance(values, tuple) else (float("inf"), values)
                )
                return freq >= threshold and informativeness >= info_threshold

            counts = [item for item in counts if keep(item)]
        counts = [(v[0] if isinstance(v, tuple) else v, term) for v, term in counts]
        if op.input_dtype != tf.string.name:
            counts = [(k, tf.compat.as_bytes(tf.compat.as_str_any(v))) for k, v in counts]
        if op.top_k is not None:
            # beam.combiners.Top.Of: the largest, largest first.
            counts = sorted(counts, reverse=True)[: op.top_k]
            counts = maybe_add_empty_vocabulary_dummy(counts, op.input_dtype)
        return (counts,)

    def _supports_VocabularyOrderAndWrite(self, op: Any) -> None:
        if op.file_format != "text":
            raise Unsupported(f"a vocabulary written as {op.file_format}")

    def _VocabularyOrderAndWrite(self, op: Any, counts: list, *reserved: list) -> tuple:
        import numpy as np
        from tensorflow_transform.beam.analyzer_impls import (
            _count_and_token_to_bytes,
            maybe_add_empty_vocabulary_dummy,
        )

        path = os.path.join(self.args.base_temp_dir, op.vocab_filename)
        reserved_tokens = reserved[0][0] if reserved else None
        if op.input_is_sorted and not reserved:
            ordered = list(counts)
        else:
            if op.fingerprint_shuffle:
                ordered = sorted(counts, key=lambda kv: hashlib.sha1(kv[1]).digest())
            else:
                ordered = sorted(counts, reverse=True)  # largest count first
            if reserved_tokens:
                (tokens,) = reserved_tokens
                taken = set(tokens)
                ordered = [item for item in ordered if item[1] not in taken]
                ordered[:0] = [(-1, token) for token in tokens]
            ordered = maybe_add_empty_vocabulary_dummy(ordered, op.input_dtype)
        if op.store_frequency:
            lines = [_count_and_token_to_bytes(count, token) for count, token in ordered]
        else:
            lines = [token for _, token in ordered]
        # beam.io.WriteToText: each element's bytes and a newline, one unsharded file.
        with open(path, "wb") as file:
            for line in lines:
                file.write(line if isinstance(line, bytes) else str(line).encode("utf-8"))
                file.write(b"\n")
        return ([np.array(path)],)

    def _ExtractVocabularyReservedTokens(self, op: Any) -> tuple:
        from tensorflow_transform import tf_utils

        return ([[tf_utils.fetch_vocabulary_reserved_tokens(self.args.graph, op.name)]],)


def _accumulate(combiner: Any, values: list) -> Any:
    accumulator = combiner.create_accumulator()
    for value in values:
        accumulator = combiner.add_input(accumulator, value)
    return accumulator


def _merge_and_extract(combiner: Any, accumulators: list) -> Any:
    if not accumulators:
        accumulators = [combiner.create_accumulator()]
    return combiner.extract_output(combiner.merge_accumulators(accumulators))
