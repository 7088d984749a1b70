"""The documents service's measurement sets: a confirmation corpus and an SOP question set."""
