"""What the feed tells the apps above it, without importing them."""

from django.dispatch import Signal

# Sent inside an import's transaction once learners.csv is written: learners may have moved
# centre. Receivers must not commit or swallow errors; the import is all or nothing.
learners_delivered = Signal()

# Sent once a transaction that changed learners' data has committed: with `change`, the id of
# a numbered DataChange (an import, a non-Edexcel record) whose ChangedComponent rows name the
# learners; with `ulns`, the learners themselves (award dates). Receivers run after the
# commit, so they must not raise: the change is made whatever they do.
learner_data_committed = Signal()

# Sent inside an import's transaction once a file of the catalogue (series, qualifications,
# units, mark windows, grade thresholds) is written, so that whoever keeps a copy of the
# catalogue reads it again once the import commits.
catalogue_delivered = Signal()
