"""The archive verification section: what READABLE_BUCKETS adds to the cost of a completion."""
