"""Process set-up: devices (the one device-name mapping), torch CPU threads, third-party warnings.

Importing this package imports none of its modules."""
