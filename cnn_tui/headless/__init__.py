"""The headless face: prints a run's events for terminals, nohup logs and CI."""
