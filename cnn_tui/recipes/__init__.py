"""Recipes: YAML files that say what to train. Schema, loading, overrides, built-in lookup."""
