"""The live view: what `opsuite up` shows and `opsuite view` attaches to a running suite."""
