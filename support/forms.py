from django import forms

from base.identifiers import uln_problem
from learners.models import Learner

from .models import MAX_MESSAGE_LENGTH


def _message_field(label: str) -> forms.CharField:
    return forms.CharField(
        label=label,
        max_length=MAX_MESSAGE_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": "Enter a message."},
    )


class StartConversationForm(forms.Form):
    subject = forms.CharField(
        max_length=200,
        help_text="A few words, for example \u201cAward date will not save\u201d.",
        error_messages={"required": "Enter a subject."},
    )
    uln = forms.CharField(
        label="Learner's ULN (optional)",
        required=False,
        max_length=20,
        help_text="If your question is about one learner, give their ULN, not their name.",
    )
    body = _message_field("Your message")

    def __init__(self, *args, user, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_subject(self) -> str:
        # A subject is one line: it heads the inbox and the transcript email's subject.
        return " ".join(self.cleaned_data["subject"].split())

    def clean_uln(self) -> str:
        uln = self.cleaned_data["uln"].replace(" ", "")
        if not uln:
            return ""
        problem = uln_problem(uln)
        if problem:
            raise forms.ValidationError(
                f"This ULN {problem}: enter the learner's ULN as on their record"
            )
        # The same answer whether the learner is at another centre or nowhere, so that the
        # form cannot be used to find out which ULNs exist elsewhere.
        if not Learner.objects.filter(uln=uln).exists():
            raise forms.ValidationError("No learner with this ULN at your centres")
        return uln


class ReplyForm(forms.Form):
    body = _message_field("Your reply")
