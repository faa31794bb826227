from prepkit.detect.engine import Detector, ModelNotInstalled, build_analyzer

__all__ = ["Detector", "ModelNotInstalled", "build_analyzer"]
