"""Private helpers of the command-line tools: one-line errors, live progress, box tables."""
