from prepkit.io.readers import InputOptions, discover, read_inputs

__all__ = ["InputOptions", "discover", "read_inputs"]
