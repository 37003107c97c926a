"""The benchmark's "Hints" section (issue 20): the real handler answering the hint queue's batches.

`python -m bench.hints` (PYTHONPATH=functions:.) runs the section on its own and prints it. Nothing is
imported here, so that `bench.plan` can import the hints' plan (`bench.hints.plan`) without a cycle.
"""
