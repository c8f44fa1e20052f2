"""One module per subcommand of the command line (cnn_tui/cli.py parses and dispatches)."""
