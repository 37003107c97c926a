"""CDK infrastructure of the AMI Store Notifier: settings, stack and the app builder."""
