"""`cnn-tui show`: a run directory printed for SSH sessions and CI logs (text, plotext charts, JSON)."""
