"""Hostile input given to the harness itself, through the real `conformance` entry point."""
