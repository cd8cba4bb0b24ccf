"""Vigil's application layer: the command line, the wiring of the stages (pipeline), the demo."""
