"""Surrogate generators by kind of value; `prepkit.transform.synth` picks one per entity type."""
