"""Sub-commands of the ``nasrank`` command line, one module each."""
