"""The benchmark harness (issue 7): ``python bench/run.py --events N``; see bench/run.py."""
