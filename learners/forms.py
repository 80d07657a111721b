from django import forms

from .models import Series


class AwardDateForm(forms.Form):
    award_series = forms.ChoiceField(
        label="Anticipated award date",
        required=False,
        help_text="The series in which the learner should complete the Diploma.",
    )

    def __init__(self, *args, registered_year: int, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # From the registration year to six years on: any later series is surely a mistake.
        series = Series.objects.filter(
            code__gte=f"{registered_year:04d}-01", code__lte=f"{registered_year + 6:04d}-12"
        ).values_list("code", "name")
        self.fields["award_series"].choices = [("", "Not set"), *series]
