"""`ami-store-notifier`: the operator's command line (watch, store, status). Not shipped with the Lambda."""
