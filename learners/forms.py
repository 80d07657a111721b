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


class BulkAwardDateForm(forms.Form):
    award_series = forms.ChoiceField(
        label="Anticipated award date",
        required=False,
        help_text="For every learner listed; learners registered after it keep theirs.",
    )
    # The Overview's filters, as its query string, carried from the list to the confirmation.
    filters = forms.CharField(required=False, widget=forms.HiddenInput, max_length=2000)

    def __init__(self, *args, today: datetime.date, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        series = Series.objects.filter(
            code__gte=f"{today.year - 1:04d}-01", code__lte=f"{today.year + 6:04d}-12"
        ).values_list("code", "name")
        self.fields["award_series"].choices = [("", "Not set (clear it)"), *series]


class AwardFileForm(forms.Form):
    file = forms.FileField(
        label="CSV file", help_text="Columns: uln,award_series (YYYY-MM; empty clears it)"
    )
