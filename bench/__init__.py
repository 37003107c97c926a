"""Benchmark of the AMI Store Notifier against a naive reference poller (`make bench`).

Not part of the test suite: it runs the real handler against in-process moto and the EC2 store-task
emulator at several listing sizes, and reports API calls, DynamoDB capacity, wall time, memory, the
monthly cost and the cold-start figures, with PASS/FAIL against the project's targets. See
`python -m bench --help` and RESULTS.md beside this file.
"""
