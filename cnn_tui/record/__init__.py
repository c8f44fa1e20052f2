"""A run directory read back for the faces outside the dashboard (`show`, `export`).

Plain Python: no torch, no Textual, so reading a run costs neither.
"""
