"""One module per benchmark case; each returns a list of Result rows."""
