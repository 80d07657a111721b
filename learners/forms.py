import datetime

from django import forms

from .models import Series


class AwardDateForm(forms.Form):
    award_series = forms.ChoiceField(
        label="Anticipated award date",
        required=False,
        help_text="The series in which the learner should complete the Diploma.",
    )

    def __init__(self, *args, registered_on: datetime.date, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # No series before the registration date (DOMAIN.md 4.7), and none more than six
        # years on: any later series is surely a mistake.
        series = Series.objects.filter(
            code__gte=f"{registered_on.year:04d}-{registered_on.month:02d}",
            code__lte=f"{registered_on.year + 6:04d}-12",
        ).values_list("code", "name")
        self.fields["award_series"].choices = [("", "Not set"), *series]
