"""Vigil's backbone: the message contract, transports, stage runner, stores and the `vigil` command."""
