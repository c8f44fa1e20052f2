"""Training: the loop and the pieces it polls (schedule, monitors, gradient stats, control)."""
