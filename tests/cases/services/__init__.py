"""Tests of single modules of the case services package; the rules the package keeps as a
whole (C-2 … C-16) are tested in tests/cases/test_services.py."""
