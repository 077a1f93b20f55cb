"""The pipeline stage: the generated modules in a real TFX pipeline, run here or on Vertex AI.

``build_pipeline`` turns a FeatureConfig, a ModelConfig and a data source into a TFX
pipeline (ExampleGen → StatisticsGen → SchemaGen → Transform → Trainer → Pusher) whose
Transform and Trainer run exactly the modules ``generate_trainer_code`` returns;
``run_local`` runs it with TFX's LocalDagRunner, ``compile_pipeline`` writes the Vertex AI
pipeline JSON with KubeflowV2DagRunner. TFX itself runs in the TFX environment
(``environment.py``), never in the kernel.
"""

from towerwidgets.pipeline.definition import (
    DEFAULT_IMAGE,
    PipelineDefinition,
    build_pipeline,
    compile_pipeline,
    dataflow_args,
    default_image,
)
from towerwidgets.pipeline.environment import PipelineError, TFXEnvironmentError, tfx_python
from towerwidgets.pipeline.results import PipelineRun, read_metrics
from towerwidgets.pipeline.sources import PipelineInputError

__all__ = [
    "DEFAULT_IMAGE",
    "PipelineDefinition",
    "PipelineError",
    "PipelineInputError",
    "PipelineRun",
    "TFXEnvironmentError",
    "build_pipeline",
    "compile_pipeline",
    "dataflow_args",
    "default_image",
    "read_metrics",
    "run_local_pipeline",
    "tfx_python",
]


def run_local_pipeline(feature_config, model_config, data, *, on_event=None, **options):
    """Build the pipeline (options as for ``build_pipeline``) and run it here with TFX's
    LocalDagRunner; returns the ``PipelineRun``."""
    definition = build_pipeline(feature_config, model_config, data, **options)
    return definition.run_local(on_event=on_event)
