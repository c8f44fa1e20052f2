"""The contract between the engine and every face (dashboard, printer, `show`, `export`):
the vocabulary a run speaks. Plain Python: no torch, no Textual, no pydantic, so any face
may import it for free.
"""
