from prepkit.detect.engine import Detector, build_analyzer
from prepkit.model_ref import ModelNotInstalled

__all__ = ["Detector", "ModelNotInstalled", "build_analyzer"]
