"""Seeded synthetic carrier files for tests, benchmarks and `piiscan fixtures`/`piiscan demo`.

Not part of the runtime: it needs the `fixtures` extra (Faker, xlsxwriter), and no runtime module
imports it (tests/test_fixtures_extra.py checks).
"""
