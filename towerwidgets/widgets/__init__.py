"""Notebook widgets (anywidget): the wizard, the tower builder, the chapters, the metrics table.

Widgets are thin: they translate front-end events into calls on config, store, codegen and
runner, and results back into synced traits. They never import TensorFlow.
"""

from towerwidgets.widgets.compare import CompareView
from towerwidgets.widgets.editor import TowerBuilder
from towerwidgets.widgets.features import FeatureEditor
from towerwidgets.widgets.metrics import MetricsTable
from towerwidgets.widgets.page import ModelingPage
from towerwidgets.widgets.preview import RecommendationPreview, preview
from towerwidgets.widgets.quick_test import QuickTestPanel
from towerwidgets.widgets.structure import ModelStructure
from towerwidgets.widgets.wizard import ModelWizard

__all__ = [
    "CompareView",
    "FeatureEditor",
    "MetricsTable",
    "ModelStructure",
    "ModelWizard",
    "ModelingPage",
    "QuickTestPanel",
    "RecommendationPreview",
    "TowerBuilder",
    "preview",
]
