from prepkit.io.readers import InputOptions, Inputs, discover, find_inputs, read_inputs

__all__ = ["InputOptions", "Inputs", "discover", "find_inputs", "read_inputs"]
