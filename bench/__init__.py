"""Benchmarks: each prints a table and writes JSON and a plot under bench/results/."""
