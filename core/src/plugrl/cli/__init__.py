"""The plugrl command line."""
