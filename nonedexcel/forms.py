from django import forms

from base.identifiers import is_valid_qan
from learners import diploma
from learners.models import Qualification

from .models import NonEdexcelQualification
from .refusals import component_refusal, qan_refusal

COMPONENT_CHOICES = [(c, diploma.COMPONENT_NAMES[c]) for c in diploma.QUALIFICATION_COMPONENTS]


class NonEdexcelForm(forms.Form):
    qan = forms.CharField(
        label="QAN",
        max_length=10,
        help_text="The Qualification Accreditation Number, like 500/1234/5.",
    )
    component = forms.ChoiceField(choices=COMPONENT_CHOICES, initial=diploma.ASL)
    awarding_body = forms.CharField(max_length=100, required=False)
    title = forms.CharField(
        max_length=200,
        required=False,
        help_text="As the awarding body names it, if you know it.",
    )

    def __init__(self, *args, learner, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.learner = learner
        # Offer only the components this learner's Diploma has (Progression has no ASL).
        field = self.fields["component"]
        refused = [c for c, _ in COMPONENT_CHOICES if component_refusal(learner.level, c)]
        if refused:
            field.choices = [(c, name) for c, name in COMPONENT_CHOICES if c not in refused]
            field.initial = field.choices[0][0]
            field.error_messages["invalid_choice"] = (
                f"You cannot record this: {component_refusal(learner.level, refused[0])}."
            )

    def clean_qan(self) -> str:
        qan = self.cleaned_data["qan"].strip().upper()
        if not is_valid_qan(qan):
            raise forms.ValidationError(
                "Enter a QAN like 500/1234/5: three digits, four digits and a check character."
            )
        if NonEdexcelQualification.objects.filter(learner=self.learner, qan=qan).exists():
            raise forms.ValidationError("This qualification is already recorded for the learner.")
        return qan

    def clean(self) -> dict:
        cleaned = super().clean()
        qan, component = cleaned.get("qan"), cleaned.get("component")
        if qan and component:
            ours = Qualification.objects.filter(qan=qan).values_list("code", "component").first()
            refusal = qan_refusal(ours, component)
            if refusal:
                self.add_error("qan", f"You cannot record this here: {refusal}.")
        return cleaned


class UploadForm(forms.Form):
    file = forms.FileField(
        label="CSV file", help_text="Columns: uln,qan,component,awarding_body,title"
    )


class ListFilterForm(forms.Form):
    centre = forms.ChoiceField(required=False)
    component = forms.ChoiceField(
        required=False, choices=[("", "Any component"), *COMPONENT_CHOICES]
    )

    def __init__(self, *args, centres, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["centre"].choices = [("", "All your centres")] + [
            (c.number, f"{c.number} {c.name}") for c in centres
        ]
