"""What the feed tells the apps above it, without importing them."""

from django.dispatch import Signal

# Sent inside an import's transaction once learners.csv is written: learners may have moved
# centre. Receivers must not commit or swallow errors; the import is all or nothing.
learners_delivered = Signal()
