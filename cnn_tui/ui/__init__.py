"""The dashboard face: a Textual app that reads the engine's event stream.

Only this package imports Textual. state, series and sources are plain Python so they
can be tested (and benchmarked) without an app.
"""
