from django.db import models

from accounts.permissions import visible_centre_numbers


class LearnerQuerySet(models.QuerySet):
    def visible_to(self, user) -> "LearnerQuerySet":
        """Learners whose DAB centre the user holds a role on; staff see every centre."""
        if not user.is_authenticated:
            return self.none()
        centres = visible_centre_numbers(user)
        return self if centres is None else self.filter(centre_id__in=centres)
