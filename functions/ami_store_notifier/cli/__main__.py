"""`python -m ami_store_notifier.cli`: the same command as the `ami-store-notifier` console script."""

from ami_store_notifier.cli.app import main

if __name__ == "__main__":
    main()
