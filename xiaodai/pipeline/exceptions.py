class PipelineError(Exception):
    """A run that cannot start or cannot go on; the message says why (shown on the page and the CLI)."""
