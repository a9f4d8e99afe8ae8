"""Helpers shared by tests of several apps."""
