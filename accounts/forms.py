import re
import unicodedata

from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm, SetPasswordForm
from django.core.validators import MaxLengthValidator

from base.identifiers import is_valid_centre_number

from . import emails
from .identity import canonical_email_or_none
from .models import AccessRequest, Centre, Membership, User, accounts_for_address
from .registration import confirmed_by_reset

ROLE_CHOICES = Membership.Role.choices


# Something a mail program would turn into a link: a dot between letters of a word and a
# top-level domain ("paypal-help.com"), or a path.
_LOOKS_LIKE_A_DOMAIN = re.compile(r"[^\W_]\.[^\W\d_]{2,}|/|\\")


def a_persons_name(value: str) -> None:
    """A name, which our emails quote: nothing that reads as a link, an address or a new line
    of the message."""
    if (
        any(unicodedata.category(character).startswith("C") for character in value)
        or "@" in value
        or _LOOKS_LIKE_A_DOMAIN.search(value)
    ):
        raise forms.ValidationError(
            "Enter a name only, without web or email addresses or line breaks."
        )


class RegistrationForm(forms.Form):
    first_name = forms.CharField(
        max_length=150,
        validators=[a_persons_name],
        widget=forms.TextInput(attrs={"autocomplete": "given-name"}),
    )
    last_name = forms.CharField(
        max_length=150,
        validators=[a_persons_name],
        widget=forms.TextInput(attrs={"autocomplete": "family-name"}),
    )
    # The address is the username too, which has at most 150 characters: a longer one, though
    # a valid address, was a server error on PostgreSQL.
    email = forms.EmailField(
        max_length=User._meta.get_field("username").max_length,
        help_text="You will sign in with this address.",
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    organisation = forms.CharField(
        max_length=200,
        help_text="For example the consortium or local authority you work for.",
        widget=forms.TextInput(attrs={"autocomplete": "organization"}),
    )
    password1 = forms.CharField(
        label="Password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="At least 12 characters; not a common password.",
    )
    password2 = forms.CharField(
        label="Password again",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip()
        if canonical_email_or_none(email) is None:
            raise forms.ValidationError("Enter an email address with a domain that can exist.")
        return email.lower()

    def clean(self):
        cleaned = super().clean()
        first, second = cleaned.get("password1"), cleaned.get("password2")
        if first and second and first != second:
            self.add_error("password2", "The two passwords do not match.")
        elif first:
            candidate = User(
                username=cleaned.get("email", ""),
                email=cleaned.get("email", ""),
                first_name=cleaned.get("first_name", ""),
                last_name=cleaned.get("last_name", ""),
            )
            try:
                password_validation.validate_password(first, candidate)
            except forms.ValidationError as error:
                self.add_error("password1", error)
        return cleaned


class ConfirmEmailForm(forms.Form):
    password = forms.CharField(
        label="Password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        help_text="The password you chose when you registered.",
    )


class ResendConfirmationForm(forms.Form):
    email = forms.EmailField(
        label="Email address",
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
        help_text="The address you registered with.",
    )


class RequestAccessForm(forms.Form):
    centre = forms.CharField(
        label="Centre number", max_length=5, help_text="The five-digit centre number."
    )
    role = forms.ChoiceField(label="Role wanted", choices=ROLE_CHOICES, widget=forms.RadioSelect)

    def __init__(self, *args, user: User, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_centre(self) -> str:
        """The centre's number. Whether a centre has it is not said: the request is taken
        either way, and one to no centre simply waits."""
        number = self.cleaned_data["centre"].strip()
        if not is_valid_centre_number(number):
            raise forms.ValidationError("Enter a centre number of five digits.")
        if Membership.objects.filter(user=self.user, centre_id=number).exists():
            raise forms.ValidationError("You already have a role on that centre.")
        if AccessRequest.objects.filter(
            user=self.user, centre_id=number, status=AccessRequest.Status.PENDING
        ).exists():
            raise forms.ValidationError(
                "You have already asked that centre; it has not decided yet."
            )
        return number


class GrantRoleForm(forms.Form):
    email = forms.EmailField(
        label="Email address", help_text="The person must have registered with Learner Tracking."
    )
    role = forms.ChoiceField(
        choices=ROLE_CHOICES, widget=forms.RadioSelect, initial=Membership.Role.VIEWER
    )

    def __init__(self, *args, centre: Centre, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.centre = centre

    def clean_email(self) -> User:
        email = self.cleaned_data["email"].strip()
        users = accounts_for_address(email)
        if len(users) > 1:
            raise forms.ValidationError(
                "More than one account uses that email address, so we cannot tell whose it "
                "is. Contact us to sort the accounts out."
            )
        if not users:
            raise forms.ValidationError(
                "No one has registered with that email address. Ask them to register first."
            )
        user = users[0]
        if Membership.objects.filter(user=user, centre=self.centre).exists():
            raise forms.ValidationError("They already have a role on this centre: change it below.")
        return user


class ChangeRoleForm(forms.Form):
    role = forms.ChoiceField(choices=ROLE_CHOICES)


class SignInForm(AuthenticationForm):
    """Django's sign-in form, which sets the username's maxlength on the widget only.

    Without the check, a longer name is looked up and axes records the failure in a column
    of 255 characters, which PostgreSQL refuses with a server error.
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        username = self.fields["username"]
        username.validators.append(MaxLengthValidator(username.max_length))


class IncludingInvitedPasswordResetForm(PasswordResetForm):
    """Centre users who never set a password can still ask for the link again."""

    def get_users(self, email):
        # Registrations still waiting for confirmation too: the link proves the address, and
        # the owner of an address someone else registered can take it back this way.
        return [
            user
            for user in accounts_for_address(email, active_only=False)
            if user.is_active or user.awaiting_confirmation
        ]

    def save(self, *args, **kwargs) -> None:
        """Each link goes by a Celery task given only the account's id: the page takes the
        same time whether or not the address has an account."""
        for user in self.get_users(self.cleaned_data["email"]):
            emails.send_later("password-reset", user)


class ConfirmingSetPasswordForm(SetPasswordForm):
    """Setting a password from an emailed link also confirms a waiting registration."""

    def save(self, commit: bool = True) -> User:
        user = super().save(commit=commit)
        if commit:
            confirmed_by_reset(user)
        return user
