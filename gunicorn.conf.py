"""gunicorn's settings: its logs go through the app's scrubbing handler (README, Logs).

gunicorn reads ./gunicorn.conf.py from its working directory; the Dockerfile and
docker-compose.yml name it too. Bind address, workers and threads stay on their command lines.
"""

import os

from django.conf import settings

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "learnertracking.settings")

# The same dictionary Django configures in each worker, so the master's own lines (boot,
# worker timeouts) and the access lines are formatted and scrubbed the same way.
logconfig_dict = settings.LOGGING
# No timestamp (every line has its own) and the duration; ScrubPersonalData rewrites the
# request line and the referrer, whose paths and query strings can name a learner.
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms "%(f)s" "%(a)s"'
