from django.db import models

from accounts.models import Membership


class LearnerQuerySet(models.QuerySet):
    def visible_to(self, user) -> "LearnerQuerySet":
        """Learners whose DAB centre the user holds a role on; staff see every centre."""
        if not user.is_authenticated:
            return self.none()
        if user.is_staff:
            return self
        return self.filter(centre_id__in=Membership.objects.filter(user=user).values("centre_id"))
